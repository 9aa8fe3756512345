"""gunicorn settings of the gateway.

    gunicorn --config deploy/gunicorn.conf.py "gateway.app:create_app()"

Reads CRM_PORT, CRM_LOG_LEVEL, CRM_TLS_CERT and CRM_TLS_KEY (the names every process shares,
see common/config.py) and three settings of this server only: GUNICORN_WORKERS,
GUNICORN_THREADS, FORWARDED_ALLOW_IPS.
"""
import os
import tempfile

from common import config as crm  # not "config": that is a gunicorn setting


bind = f"0.0.0.0:{crm.gateway_port()}"
# HTTPS when CRM_TLS_CERT and CRM_TLS_KEY name a certificate and its key (PEM): the gateway
# then terminates TLS itself, and plain HTTP to this port fails. Unset (None), it speaks
# plain HTTP for a proxy or ingress in front that terminates TLS.
certfile, keyfile = crm.gateway_tls()

# Threads, not green threads: gunicorn has no eventlet worker any more, and the gateway keeps
# one RPC proxy per thread (a proxy shared by threads corrupts frames).
worker_class = "gthread"
# The gateway mostly waits on RPC replies, so threads carry the concurrency and processes the
# CPU. 2 x CPUs + 1, capped: a container sees every CPU of its host. Under a CPU limit
# (Kubernetes) set GUNICORN_WORKERS to match the limit.
workers = int(crm.env("GUNICORN_WORKERS", str(min(2 * crm.cpus() + 1, 8))))
threads = crm.gateway_threads()
# Each worker opens its own AMQP connections after the fork; loading the app before forking
# would share them between processes.
preload_app = False

# Required. Without SO_REUSEPORT one accept queue feeds all workers and the kernel hands most
# keep-alive connections to one of them (measured on this stack: throughput fell 2.7x).
# With it, each worker has its own queue and connections spread evenly.
reuse_port = True

# A worker's heartbeat, not a request's: requests are bounded by CRM_RPC_TIMEOUT (answered
# 504). A worker silent this long is stuck and is replaced.
timeout = 30
# Time for in-flight requests on SIGTERM (a rolling update): keep below the orchestrator's
# grace period (Kubernetes 30 s by default, docker compose 10 s unless stop_grace_period).
graceful_timeout = 25
# The longest request line (method, path and query) gunicorn takes before answering 414 in
# HTML, unseen by the gateway: its most allowed, 8190 bytes (the default 4094 is reached by a
# list's filters in Chinese, each character percent-encoded to 9 bytes).
limit_request_line = 8190
# Seconds an idle keep-alive connection is held; behind a load balancer raise it above the
# balancer's idle timeout.
keepalive = 5
# The heartbeat file on tmpfs: on a container's overlay disk its fchmod can block a worker.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"
# No gunicornc control socket: it would be created under $HOME, which the container user
# cannot write; the orchestrator scales and restarts instead.
control_socket_disable = True

# Logs to stdout/stderr, collected by the container runtime. Each access line is formatted
# and written by the request's thread in one system call (gateway/access_log.py): no lock
# that would make a worker's threads wait for one another.
accesslog = "-"
errorlog = "-"
# (gunicorn's statsd logger is not used: the gateway's metrics are Prometheus's, /metrics.)
logger_class = "gateway.access_log.AccessLog"
# gunicorn's default line plus the duration and the request id the gateway answers with,
# which every RPC call of the request carries too.
access_log_format = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %(M)sms rid=%({x-request-id}o)s'
)
loglevel = crm.env("CRM_LOG_LEVEL", "INFO").lower()

# Whose X-Forwarded-For / -Proto to trust: the reverse proxy's addresses (IPs or CIDR
# networks). gunicorn's default trusts only localhost; never "*" where clients can reach
# the gateway directly (they could forge their address).
forwarded_allow_ips = crm.env("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# /metrics sums the request metrics of every worker: prometheus_client's multiprocess mode,
# its files in a directory made before the workers fork (inherited through the environment).
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="crm-gateway-metrics-")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
