"""Test harness for real prez-server processes: clusters from config files on free loopback ports,
a small RESP client, and cleanup of every process started (also on failure).

Every wait is bounded in time; every process is killed in Cluster.close() (use `with Cluster(...)`).
"""
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time


class RespError(Exception):
    """An error reply (-ERR ...) from the server."""


_handed_out = set()


def free_port():
    """A port nobody listens on, picked below the kernel's ephemeral range: a port from that range
    (what binding port 0 gives) can be taken meanwhile as the local port of any outgoing
    connection, such as another node's peer link, and the server then fails to listen on it."""
    low, high = 20000, 32000
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            first = int(f.read().split()[0])
        high = min(high, first - 1)
    except (OSError, ValueError, IndexError):
        pass
    rng = random.Random(os.getpid() * 7919 + time.monotonic_ns())
    for _ in range(1000):
        port = rng.randrange(low, high)
        if port in _handed_out:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port found below the ephemeral range")


def encode(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out


class Client:
    """A blocking RESP2 client with a timeout on every call."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by server")
        self.buf += chunk

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return RespError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[:n], self.buf[n + 2:]
            return data.decode(errors="replace")
        if kind in (b"*", b"~", b">"):  # array, RESP3 set, RESP3 push
            n = int(rest)
            if n < 0:
                return None
            return [self.read_reply() for _ in range(n)]
        # RESP3 (after HELLO 3): null, map, verbatim text, double, boolean, big number
        if kind == b"_":
            return None
        if kind == b",":
            return float(rest)
        if kind == b"#":
            return rest == b"t"
        if kind == b"(":
            return int(rest)
        if kind == b"%":
            items = [self.read_reply() for _ in range(2 * int(rest))]
            return dict(zip(items[0::2], items[1::2]))
        if kind == b"=":
            n = int(rest)
            while len(self.buf) < n + 2:
                self._fill()
            data, self.buf = self.buf[4:n], self.buf[n + 2:]  # without "txt:"
            return data.decode(errors="replace")
        raise ValueError("bad reply line %r" % line)

    def send_raw(self, data):
        self.sock.sendall(data)

    def call(self, *args):
        self.sock.sendall(encode(*args))
        reply = self.read_reply()
        if isinstance(reply, RespError):
            raise reply
        return reply


def raw_exchange(port, payload, seconds=5):
    """Sends `payload`, returns (everything received until the server closes, closed?)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=seconds)
    try:
        sock.sendall(payload)
        data, end = b"", time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return data, False
            except ConnectionResetError:
                return data, True
            if not chunk:
                return data, True
            data += chunk
        return data, False
    finally:
        sock.close()


def call(port, *args, timeout=5.0):
    with Client(port, timeout) as c:
        return c.call(*args)


def blocked_clients(node):
    """INFO clients' blocked_clients on `node` (the cluster's count: blocked clients are
    replicated state), or -1 when it cannot be read."""
    try:
        text = call(node.port, "INFO", "clients", timeout=2) or ""
    except (OSError, RespError, ValueError):
        return -1
    for line in text.splitlines():
        if line.startswith("blocked_clients:"):
            return int(line.split(":", 1)[1])
    return -1


def info_raft(port, timeout=1.0):
    try:
        text = call(port, "INFO", "raft", timeout=timeout) or ""
    except (OSError, RespError, ValueError):
        return {}
    return dict(line.split(":", 1) for line in text.splitlines() if ":" in line)


def wait_until(predicate, seconds, interval=0.05):
    """Polls predicate (exceptions count as False) until true or `seconds` pass."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            value = predicate()
            if value:
                return value
        except Exception:
            pass
        time.sleep(interval)
    return None


class Node:
    def __init__(self, cluster, name, port, cluster_port):
        self.cluster, self.name, self.port, self.cluster_port = cluster, name, port, cluster_port
        self.dir = os.path.join(cluster.root, name)
        self.proc = None
        self.env = None  # extra environment variables for the process (e.g. libfaketime's)
        os.makedirs(self.dir, exist_ok=True)

    def write_config(self, extra=""):
        with open(os.path.join(self.dir, "prez.conf"), "w") as f:
            f.write("# written by prez_harness\n"
                    f"name {self.name}\nport {self.port}\nbind 127.0.0.1\n"
                    f"cluster-port {self.cluster_port}\ncluster-config-file nodes.conf\n"
                    f"cluster-node-timeout {self.cluster.node_timeout_ms}\n"
                    f"loglevel {self.cluster.loglevel}\ndir ./data\n{extra}")
        with open(os.path.join(self.dir, "nodes.conf"), "w") as f:
            f.write(self.cluster.nodes_conf())

    def start(self):
        assert self.proc is None or self.proc.poll() is not None
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        env = dict(os.environ, **self.env) if self.env else None
        self.proc = subprocess.Popen([self.cluster.binary, "prez.conf"], cwd=self.dir,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                try:
                    os.kill(self.proc.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
                self.proc.kill()
            self.proc.wait(timeout=10)
            self.log.close()
            self.proc = None

    def stop(self):
        """SIGTERM and wait (the graceful stop a user's Ctrl-C gives)."""
        if self.proc is not None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
            self.log.close()
            self.proc = None

    def role(self):
        return info_raft(self.port).get("role", "").strip()

    def tail_log(self, lines=30):
        try:
            with open(os.path.join(self.dir, "server.log"), "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode(errors="replace")
        except OSError:
            return ""


class Cluster:
    def __init__(self, binary, size=3, node_timeout_ms=500, loglevel="notice"):
        self.binary = os.path.abspath(binary)
        self.root = tempfile.mkdtemp(prefix="prez-it-")
        self.node_timeout_ms = node_timeout_ms
        self.loglevel = loglevel
        self.nodes = [Node(self, "node-%d" % i, free_port(), free_port()) for i in range(size)]
        for n in self.nodes:
            n.write_config()

    def nodes_conf(self):
        return "".join(f"{n.name} 127.0.0.1:{n.cluster_port}\n" for n in self.nodes)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for n in self.nodes:
                print(f"--- last log lines of {n.name} ---\n{n.tail_log()}")
        self.close()

    def start(self):
        for n in self.nodes:
            n.start()

    def close(self):
        for n in self.nodes:
            try:
                n.kill()
            except Exception:
                pass
        if os.environ.get("PREZ_KEEP_TEST_DIRS") is None:
            shutil.rmtree(self.root, ignore_errors=True)

    def live(self):
        return [n for n in self.nodes if n.alive()]

    def leader(self, among=None, seconds=15):
        """Waits for exactly one node (among `among`) to report role leader; returns it."""
        among = among or self.live()

        def find():
            leaders = [n for n in among if n.role() == "leader"]
            return leaders[0] if len(leaders) == 1 else None

        found = wait_until(find, seconds)
        if found is None:
            raise AssertionError("no leader among %s within %ss" % ([n.name for n in among], seconds))
        return found

    def write(self, node, key, value, seconds=10):
        """SET with retries on retryable errors (CLUSTERDOWN). Returns True once acknowledged."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                if call(node.port, "SET", key, value, timeout=3) == "OK":
                    return True
            except RespError as e:
                if not str(e).startswith(("CLUSTERDOWN", "TRYAGAIN")):
                    raise
            except OSError:
                pass
            time.sleep(0.05)
        return False


def start_process(binary, workdir, args):
    """Starts `binary args...` in `workdir`, its output appended to workdir/server.log.
    Returns (process, log file); stop it with stop_process."""
    log = open(os.path.join(workdir, "server.log"), "ab")
    return subprocess.Popen([binary] + list(args), cwd=workdir, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True), log


def stop_process(proc, log):
    """SIGTERM, then SIGKILL if it does not stop within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    log.close()


def check(condition, message):
    if not condition:
        raise AssertionError(message)
