import { TestNetwork } from '@atproto/dev-env'
const env = process.env
const network = await TestNetwork.create({
  dbPostgresUrl: env.DB_POSTGRES_URL,
  dbPostgresSchema: env.DB_SCHEMA,
  pds: { port: Number(env.PDS_PORT) },
  bsky: { port: Number(env.BSKY_PORT) },
  plc: { port: Number(env.PLC_PORT) },
})
console.log(JSON.stringify({ ready: true, pds: network.pds.url, bsky: network.bsky.url }))
const stop = async () => { await network.close(); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
setInterval(() => {}, 1 << 30)
