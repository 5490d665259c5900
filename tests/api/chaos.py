"""The fault test's TCP proxy, which cuts connections mid-request and mid-response. The
server it fronts is a tests.live.LiveServer, SIGKILLed and restarted by the test."""

from __future__ import annotations

import asyncio
import random
import threading

from tests.live import free_port


class CuttingProxy:
    """Each connection either passes, is cut after a few request bytes, or is cut after a few
    response bytes. ``on_request`` may be set to act (e.g. kill the server) mid-batch."""

    def __init__(self, target: int, seed: int, cut_rate: float = 0.35) -> None:
        self.target = target
        self.port = free_port()
        self.rng = random.Random(seed)
        self.cut_rate = cut_rate
        self.cuts = {"request": 0, "response": 0, "pass": 0}
        self.on_request = None
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self._ready = threading.Event()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> None:
        self.thread.start()
        self._ready.wait(10)

    def stop(self) -> None:
        async def shutdown() -> None:
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self.loop.stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop)
        self.thread.join(5)
        self.loop.close()

    async def _handle(self, reader, writer) -> None:
        roll = self.rng.random()
        mode = "pass"
        if roll < self.cut_rate / 2:
            mode = "request"
        elif roll < self.cut_rate:
            mode = "response"
        limit = self.rng.randint(1, 4000)
        self.cuts[mode] += 1
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            writer.transport.abort()
            return

        async def pipe(src, dst, cut: int | None, upstream: bool) -> None:
            sent = 0
            try:
                while True:
                    data = await src.read(4096)
                    if not data:
                        break
                    if cut is not None and sent + len(data) >= cut:
                        dst.write(data[: max(0, cut - sent)])
                        await dst.drain()
                        writer.transport.abort()
                        up_w.transport.abort()
                        return
                    dst.write(data)
                    await dst.drain()
                    sent += len(data)
                    if upstream and self.on_request is not None:
                        self.on_request(data)
                dst.write_eof()
            except (OSError, RuntimeError):
                writer.transport.abort()
                up_w.transport.abort()

        await asyncio.gather(
            pipe(reader, up_w, limit if mode == "request" else None, True),
            pipe(up_r, writer, limit if mode == "response" else None, False),
        )
        writer.close()
        up_w.close()
