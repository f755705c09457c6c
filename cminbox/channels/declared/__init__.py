"""Each built-in channel type's declaration (``core.channel.ChannelDeclaration``), one module
per channel: its config keys, capabilities, traits and option checks, importable without the
adapter. ``core.registry.declaration`` finds them; the adapters carry the same objects."""
