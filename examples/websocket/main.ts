// WebSocket chat rooms: everyone in /chat/{room} gets every message sent there.
//   node --import tsx examples/websocket/main.ts     (or bun / deno run -A)
// Then, e.g. with two terminals: npx wscat -H 'Authorization: Bearer demo' -c ws://127.0.0.1:3000/chat/lobby
// A middleware checks the token before the upgrade (no token: an ordinary 401, no WebSocket);
// SIGTERM tells every open socket "going away" (1001) and waits for them to close.
import { Router, Server, shutdownOnSignals, TcpListener, type WsSocket } from "../../src/index.ts";

type Chat = WsSocket<{ room: string }, undefined>;
const rooms = new Map<string, Set<Chat>>();

const router = new Router();
router
  .ws(
    "/chat/{room}",
    {
      open(ws) {
        const room = ws.req.params.room;
        const members = rooms.get(room) ?? new Set();
        rooms.set(room, members.add(ws));
        ws.send(`welcome to ${room} (${members.size} here)`);
      },
      message(ws, data) {
        if (typeof data !== "string") return void ws.close(1003, "text only");
        for (const member of rooms.get(ws.req.params.room) ?? []) member.send(`${ws.req.conn.remoteAddress}: ${data}`);
      },
      close(ws) {
        rooms.get(ws.req.params.room)?.delete(ws);
      },
    },
    { maxPayload: 16 * 1024, idleTimeout: 30_000 },
  )
  .middleware((req, next) => (req.header("authorization") === `Bearer ${process.env.TOKEN ?? "demo"}` ? next() : new Response("missing or wrong token", { status: 401 })));

const listener = await TcpListener.bind(process.env.ADDR ?? "127.0.0.1:3000");
const handle = Server.builder().config({ drainTimeout: 5_000 }).build().spawnHttp(listener, router);
await shutdownOnSignals(handle);
const { address, port } = handle.localAddr();
console.log(`listening on http://${address}:${port}/chat/lobby`);
await handle.join();
console.log("stopped: every socket closed");
process.exit(0);
