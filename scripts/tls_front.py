#!/usr/bin/env python3
"""An https front for the sandbox, for SDKs that only accept https webhooks.

    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \\
        -keyout front.key -out front.crt
    scripts/tls_front.py --cert front.crt --key front.key --listen 8443 --to 127.0.0.1:PORT

It terminates TLS on loopback and pipes the bytes to the sandbox's plain-http port unchanged.
Clients then trust the certificate (Node: NODE_EXTRA_CA_CERTS=front.crt).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


async def _serve(listen: int, target_host: str, target_port: int, context: ssl.SSLContext) -> None:
    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, upstream_writer), _pipe(upstream_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", listen, ssl=context)
    print(f"https://127.0.0.1:{server.sockets[0].getsockname()[1]} -> http://{target_host}:{target_port}",
          flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--listen", type=int, default=8443)
    parser.add_argument("--to", required=True, help="HOST:PORT of the sandbox")
    args = parser.parse_args()
    host, _, port = args.to.rpartition(":")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.cert, args.key)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.listen, host or "127.0.0.1", int(port), context))


if __name__ == "__main__":
    main()
