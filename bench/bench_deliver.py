"""Benchmark: the weekly delivery of the city and 25 cluster trackers to 26 Slack channels, 26 Teams
webhooks and 10,000 email recipients, all on local servers; and plain smtplib for comparison.

The servers (an SMTP server, a Slack Web API stand-in, a Teams webhook stand-in) run in a child process,
so that client and server use the machine's two cores as they would in production. Email
throughput is measured at the server (first to last message accepted) for both the product and
plain smtplib sending the same message to the same server, in the same run.

    .venv/bin/python bench/bench_deliver.py [--emails 10000] [--baseline 2000] [--smtp sink|aiosmtpd]

The SMTP server is either `sink` (default: a minimal asyncio SMTP server that reads each message's
DATA in one go, as a real MTA written in C does) or `aiosmtpd` (the tests' server, which handles every
line of a message in Python and is then the bottleneck: plain smtplib alone needs about 60 s for
10,000 of these 120 KB messages on it).
"""
from __future__ import annotations

import argparse
import json
import os
import smtplib
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WEEK = date(2026, 11, 16)

SERVER = r'''
import json, sys, threading, time
sys.path.insert(0, sys.argv[1])
from tests.servers import SMTPServer, SlackServer, TeamsServer

class Counter:
    def __init__(self):
        self.times, self.rcpts, self.lock = [], set(), threading.Lock()
    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.times.append(time.perf_counter())
            self.rcpts.update(r.lower() for r in envelope.rcpt_tos)
        return "250 OK"

class Sink:
    """A minimal SMTP server: enough of RFC 5321 for smtplib, DATA read in one go."""
    def __init__(self, box):
        import asyncio, socket
        self.box, self.loop = box, asyncio.new_event_loop()
        sock = socket.socket(); sock.bind(("127.0.0.1", 0)); self.port = sock.getsockname()[1]; self.sock = sock
        threading.Thread(target=self._run, daemon=True).start()
    def _run(self):
        import asyncio
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, sock=self.sock, limit=2**24))
        self.loop.run_forever()
    async def _client(self, reader, writer):
        writer.write(b"220 sink ESMTP\r\n")
        rcpts = []
        while True:
            line = await reader.readline()
            if not line:
                break
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800\r\n")
            elif verb == b"RCPT":
                rcpts.append(line.split(b"<", 1)[1].split(b">", 1)[0].decode())
                writer.write(b"250 OK\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                await reader.readuntil(b"\r\n.\r\n")
                with self.box.lock:
                    self.box.times.append(time.perf_counter())
                    self.box.rcpts.update(r.lower() for r in rcpts)
                rcpts = []
                writer.write(b"250 OK\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                break
            else:                                   # MAIL, RSET, NOOP ...
                if verb in (b"MAIL", b"RSET"):
                    rcpts = []
                writer.write(b"250 OK\r\n")
            await writer.drain()
        writer.close()
    def stop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)

box = Counter()
smtp = Sink(box) if sys.argv[2] == "sink" else SMTPServer(box).start()
slack = SlackServer().__enter__()
teams = TeamsServer().__enter__()
print(json.dumps({"smtp": smtp.port, "slack": slack.api_url, "token": slack.token, "teams": teams.base}), flush=True)
for line in sys.stdin:
    cmd = line.strip()
    with box.lock:
        if cmd == "reset":
            box.times, box.rcpts = [], set()
            out = {}
        else:
            t = box.times
            out = {"messages": len(t), "unique": len(box.rcpts), "span": (t[-1] - t[0]) if len(t) > 1 else 0.0,
                   "slack_posts": len(slack.posts), "slack_uploads": len(slack.completed),
                   "teams": sum(len(v) for v in teams.received.values())}
    print(json.dumps(out), flush=True)
smtp.stop()
'''


def ask(proc, cmd: str) -> dict:
    proc.stdin.write(cmd + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--emails", type=int, default=10_000)
    p.add_argument("--baseline", type=int, default=2_000, help="messages plain smtplib sends for comparison")
    p.add_argument("--smtp", choices=("sink", "aiosmtpd"), default="sink", help="the local SMTP server")
    args = p.parse_args()

    from bot.context import Context
    from renderers.paths import slug
    from tracker.config import demo_config_text, load_config
    from tracker.demo_data import demo_frame
    from tracker.store import Store

    tmp = Path(tempfile.mkdtemp(prefix="bench-deliver-"))
    server = subprocess.Popen([sys.executable, "-c", SERVER, str(ROOT), args.smtp], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        ports = json.loads(server.stdout.readline())
        config = load_config(None)
        t0 = time.perf_counter()
        url = f"sqlite:///{tmp / 'bench.db'}"
        store = Store(url)
        store.create()
        store.save_figures(demo_frame(config, WEEK), "demo")
        seeded = time.perf_counter() - t0

        n_city = args.emails - len(config.clusters)
        (tmp / "city.txt").write_text("".join(f"reader{i}@example.gov.uk\n" for i in range(n_city)), encoding="utf-8")
        subs = [("city", config.city, 'email_file = "city.txt"')]
        subs += [(slug(c), c, f'email = ["{slug(c)}-cluster@example.gov.uk"]') for c in config.clusters]
        text = demo_config_text().split("# Subscriptions:")[0]
        for name, area, mail in subs:
            text += (f'\n[[subscriptions]]\nname = "{name}"\narea = "{area}"\n{mail}\n'
                     f'slack_channels = ["C{slug(name).upper().replace("-", "")[:10]}"]\n'
                     f'teams_webhooks = ["{ports["teams"]}/workflows/{name}"]\n')
        (tmp / "obsession.toml").write_text(text, encoding="utf-8")
        env = {"DATABASE_URL": url, "OBSESSION_CONFIG": str(tmp / "obsession.toml"), "OUTBOX_DIR": str(tmp / "outbox"),
               "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(ports["smtp"]), "MAIL_FROM": "tracker@example.gov.uk",
               "SLACK_BOT_TOKEN": ports["token"], "SLACK_API_URL": ports["slack"]}
        ctx = Context.from_env(env)

        # Plain smtplib: the city's message, as the product renders it, to the same server.
        from bot.channels.email import build_payload, build_template, message_id
        from renderers.png import render_png
        from tracker.arithmetic import build_tracker

        model = build_tracker(ctx.figures(), ctx.config, WEEK)
        tpl = build_template(model, render_png(model), subscription="city", sender="tracker@example.gov.uk",
                             from_name="bench", public_base_url=None, unsubscribe_address="performance@example.gov.uk")
        raw = build_payload(tpl, "baseline@example.gov.uk", message_id(WEEK, "city", "b", 0, tpl.domain))
        ask(server, "reset")
        conn = smtplib.SMTP("127.0.0.1", ports["smtp"])
        for i in range(args.baseline):
            conn.sendmail("tracker@example.gov.uk", [f"baseline{i}@example.gov.uk"], raw)
        conn.quit()
        base = ask(server, "stats")
        base_rate = (base["messages"] - 1) / base["span"]

        # The product: the whole weekly run.
        ask(server, "reset")
        from bot.weekly import run_weekly

        devnull = open(os.devnull, "w")
        t0 = time.perf_counter()
        code = run_weekly(ctx, week=WEEK, out=devnull, err=devnull)
        total = time.perf_counter() - t0
        got = ask(server, "stats")
        rate = (got["messages"] - 1) / got["span"]

        # A rerun finds everything sent and sends nothing.
        t0 = time.perf_counter()
        code2 = run_weekly(Context.from_env(env), week=WEEK, out=devnull, err=devnull)
        rerun = time.perf_counter() - t0
        after = ask(server, "stats")
    finally:
        server.stdin.close()
        server.wait(timeout=30)

    size_kb = len(raw) / 1024
    print(f"SMTP server: {args.smtp}")
    print(f"bench_deliver: {len(subs)} trackers, {got['slack_posts']} Slack posts ({got['slack_uploads']} image uploads), "
          f"{got['teams']} Teams cards, {got['messages']} emails ({got['unique']} distinct recipients, "
          f"{size_kb:.0f} KB each)")
    print(f"  seeding the demo store (not timed below): {seeded:.1f} s")
    print(f"  weekly run, all channels: {total:.1f} s (target < 60 s), exit code {code}")
    print(f"  email throughput: product {rate:.0f} msg/s vs plain smtplib {base_rate:.0f} msg/s "
          f"= {rate / base_rate:.2f} (target >= 0.80)")
    print(f"  for scale: plain smtplib alone would need {args.emails / base_rate:.1f} s for {args.emails} of these "
          f"messages on this server")
    print(f"  rerun (everything already sent): {rerun:.1f} s, {after['messages'] - got['messages']} more emails, "
          f"exit code {code2}")
    ok = (code == 0 and total < 60 and rate / base_rate >= 0.8 and got["unique"] == args.emails
          and after["messages"] == got["messages"])
    print("  " + ("OK" if ok else "TARGET MISSED"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
