#!/usr/bin/env python3
"""Writes the label-value corpora the sensitive-data guard is measured on.

    python3 checks/tests/data/make_corpora.py      # rewrites benign_label_values.tsv and secret_label_values.tsv

Each line is `kind<TAB>value`. The benign corpus holds values services really put in labels;
the secret corpus holds secrets and personal data in the formats they really have. Both are
generated from a fixed seed, so the files are reproducible; they are committed as generated.
"""
import base64
import hashlib
import json
import os
import random

R = random.Random(20261129)
HERE = os.path.dirname(os.path.abspath(__file__))

WORDS = """account accounts address admin alert alerts analytics api archive audit auth backup balance
basket batch billing blob booking budget cache campaign card cart catalog checkout claim client cluster
comment config consumer content contract coupon customer dashboard data delivery deploy device discount
dispatch document download email event events export feature feed file files fleet forecast fulfillment
gateway geo graph health history image images import index inventory invoice invoices item items job
ledger listing loyalty mail media member members message messages metrics notification notifications
offer order orders organization organizations payment payments payout pipeline plan pricing product
products profile promotion quote rate receipt recommendation refund region report reports reservation
return review reviews risk route schedule search session settlement shipment shipping sku snapshot
stock store subscription subscriptions supplier tax team tenant ticket timeline token transfer trip
upload user users vendor wallet warehouse webhook webhooks workflow""".split()
SERVICE_WORDS = WORDS + "frontend backend worker scheduler indexer ingester router proxy collector agent".split()
ENVS = ["prod", "production", "staging", "stage", "dev", "qa", "sandbox", "canary", "preprod", "test"]
VERBS = ["get", "list", "create", "update", "delete", "patch", "sync", "refresh", "cancel", "approve",
         "search", "export", "import", "validate", "publish", "process", "archive", "restore"]
K8S_ALPHA = "bcdfghjklmnpqrstvwxz2456789"  # what Kubernetes uses for pod-template hashes and suffixes
AWS_REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3",
               "eu-central-1", "eu-central-2", "eu-north-1", "eu-south-1", "ap-southeast-1", "ap-southeast-2",
               "ap-northeast-1", "ap-northeast-2", "ap-south-1", "sa-east-1", "ca-central-1", "me-south-1",
               "af-south-1"]
GCP_REGIONS = ["us-central1", "us-east1", "us-east4", "us-west1", "europe-west1", "europe-west2",
               "europe-west3", "europe-west4", "europe-north1", "asia-east1", "asia-northeast1",
               "asia-southeast1", "australia-southeast1", "southamerica-east1"]
AZURE_REGIONS = ["eastus", "eastus2", "westus2", "westeurope", "northeurope", "uksouth", "southeastasia",
                 "japaneast", "australiaeast", "canadacentral", "francecentral", "germanywestcentral"]
AWS_FAMILIES = ["t3", "t3a", "t4g", "m5", "m5a", "m6i", "m6g", "m7g", "c5", "c6i", "c6gn", "c7g", "r5",
                "r6i", "r7g", "i3", "i4i", "g5", "p4d", "x2idn"]
AWS_SIZES = ["nano", "micro", "small", "medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge",
             "12xlarge", "16xlarge", "24xlarge", "metal"]
GCP_TYPES = ["e2-standard-2", "e2-standard-4", "e2-highmem-8", "n2-standard-8", "n2-highcpu-16",
             "n2d-standard-32", "c3-standard-22", "c2-standard-60", "t2d-standard-4", "a2-highgpu-1g",
             "m3-ultramem-32", "e2-micro", "e2-small", "e2-medium"]
AZURE_TYPES = ["Standard_D2s_v3", "Standard_D4s_v5", "Standard_E8ds_v5", "Standard_F16s_v2",
               "Standard_B2ms", "Standard_NC6s_v3", "Standard_L8s_v3", "Standard_M128ms", "Standard_DS3_v2"]
TLDS = ["com", "net", "io", "org", "dev", "cloud", "internal", "local", "de", "co.uk", "fr", "jp"]
COMPANIES = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "contoso", "fabrikam",
             "northwind", "tailspin", "wingtip", "adventureworks", "piedpiper", "vandelay"]
UA_FAMILIES = ["Chrome", "Firefox", "Safari", "Edge", "Opera", "Samsung Internet", "Mobile Safari",
               "Chrome Mobile", "Chrome Mobile WebView", "Firefox Mobile", "UC Browser", "Yandex Browser",
               "curl", "Wget", "python-requests", "Go-http-client", "okhttp", "axios", "node-fetch",
               "Java-http-client", "Apache-HttpClient", "PostmanRuntime", "Googlebot", "bingbot",
               "Slackbot-LinkExpanding", "facebookexternalhit", "Twitterbot", "kube-probe", "Prometheus",
               "ELB-HealthChecker", "GoogleHC", "Datadog Agent", "grpc-go", "grpc-java-netty", "Dalvik",
               "CFNetwork", "Electron", "HeadlessChrome", "AppleWebKit", "reqwest", "hyper", "libcurl"]


def pick(xs):
    return R.choice(xs)


def k8s_rand(n):
    return "".join(R.choice(K8S_ALPHA) for _ in range(n))


def hexs(n):
    return "".join(R.choice("0123456789abcdef") for _ in range(n))


def semver():
    v = f"{R.randint(0, 12)}.{R.randint(0, 60)}.{R.randint(0, 30)}"
    r = R.random()
    if r < 0.2:
        v += f"-{pick(['rc', 'beta', 'alpha', 'pre'])}.{R.randint(1, 9)}"
    elif r < 0.3:
        v += f"+build.{R.randint(1, 9999)}"
    return v


def svc():
    n = R.randint(1, 3)
    name = "-".join(R.sample(SERVICE_WORDS, n))
    if R.random() < 0.3:
        name += "-" + pick(["service", "svc", "api", "worker", "consumer", "server", "job", "v2"])
    return name


def routes():
    out = []
    params = ["{id}", "{user_id}", "{order_id}", ":id", ":userId", ":orderId", "<int:id>", "{uuid}",
              "{slug}", "{tenant}", ":project", ":location", "*", "{*path}", "{name}"]
    for _ in range(260):
        parts = []
        if R.random() < 0.7:
            parts.append(pick(["api", "v1", "internal", "public", "admin", "graphql", "rest", "svc"]))
        if R.random() < 0.7:
            parts.append(pick(["v1", "v2", "v3", "v1beta1", "v2alpha", "2024-06-01"]))
        for _ in range(R.randint(1, 4)):
            parts.append(pick(WORDS))
            if R.random() < 0.5:
                parts.append(pick(params))
        if R.random() < 0.15:
            parts.append(pick(VERBS))
        p = "/" + "/".join(parts)
        if R.random() < 0.05:
            p += "/"
        out.append(("route_template", p))
    # Fixed routes people keep.
    for r in ["/", "/healthz", "/readyz", "/livez", "/metrics", "/favicon.ico", "/robots.txt",
              "/.well-known/openid-configuration", "/oauth2/token", "/oauth2/authorize", "/login",
              "/logout", "/api/v1/organizations/members/invitations", "/graphql", "/static/{*path}",
              "/api/v1/auth/token/refresh", "/api/v2/sessions/{session_id}", "/v1/projects/:project/locations/:location/instances"]:
        out.append(("route_template", r))
    # gRPC methods.
    for _ in range(60):
        pkg = f"{pick(COMPANIES)}.{pick(WORDS)}.v{R.randint(1, 3)}"
        s = pick(WORDS).capitalize() + pick(["Service", "API", "Store", "Manager"])
        m = pick(VERBS).capitalize() + pick(WORDS).capitalize() + pick(["", "s", "Request", "ById"])
        out.append(("route_template", f"/{pkg}.{s}/{m}"))
    return out


def k8s():
    out = []
    for _ in range(150):
        d = svc()
        out.append(("k8s_pod", f"{d}-{k8s_rand(R.choice([8, 9, 10]))}-{k8s_rand(5)}"))
    for _ in range(40):
        out.append(("k8s_pod", f"{svc()}-{R.randint(0, 12)}"))  # StatefulSet ordinal
    for _ in range(40):
        out.append(("k8s_pod", f"{svc()}-{k8s_rand(5)}"))  # DaemonSet / Job
    for _ in range(30):
        out.append(("k8s_pod", f"{svc()}-{R.randint(28000000, 29999999)}-{k8s_rand(5)}"))  # CronJob
    for _ in range(80):
        out.append(("k8s_deployment", svc() + pick(["", "-deployment", "-canary", "-blue", "-green", "-v2"])))
    for _ in range(60):
        out.append(("k8s_namespace", pick([f"{pick(COMPANIES)}-{pick(ENVS)}", f"team-{pick(WORDS)}",
                                           f"{pick(WORDS)}-{pick(ENVS)}", pick(["kube-system", "kube-public",
                                           "default", "monitoring", "ingress-nginx", "cert-manager",
                                           "istio-system", "argocd", "flux-system", "observability"])])))
    for _ in range(30):
        out.append(("k8s_node", f"ip-10-{R.randint(0, 255)}-{R.randint(0, 255)}-{R.randint(1, 254)}."
                                f"{pick(AWS_REGIONS)}.compute.internal"))
        out.append(("k8s_node", f"gke-{pick(COMPANIES)}-{pick(ENVS)}-{pick(['default-pool', 'pool-1', 'highmem'])}-"
                                f"{hexs(8)}-{k8s_rand(4)}"))
        out.append(("k8s_node", f"aks-{pick(['nodepool1', 'system', 'user'])}-{R.randint(10000000, 99999999)}-vmss{R.randint(0, 99):06d}"))
    return out


def hosts():
    out = []
    for _ in range(120):
        labels = [pick(SERVICE_WORDS)]
        if R.random() < 0.5:
            labels.append(pick(ENVS))
        if R.random() < 0.4:
            labels.append(pick(AWS_REGIONS + GCP_REGIONS))
        out.append(("hostname", ".".join(labels + [pick(COMPANIES), pick(TLDS)])))
    for _ in range(60):
        out.append(("hostname", f"{pick(['db', 'redis', 'kafka', 'es', 'pg', 'mq', 'web', 'app', 'cache'])}"
                                f"-{R.randint(1, 40):02d}{pick(['', '.' + pick(COMPANIES) + '.internal', '.lan'])}"))
    for _ in range(40):
        out.append(("hostname", f"{pick(WORDS)}-{pick(ENVS)}.{pick(['svc.cluster.local', 'default.svc', 'consul'])}"))
    for _ in range(30):
        out.append(("hostname", f"{pick(COMPANIES)}-{pick(WORDS)}.{hexs(6)}.{pick(['us-east-1', 'eu-west-1'])}.rds.amazonaws.com"))
    return out


def cloud():
    out = []
    for r in AWS_REGIONS + GCP_REGIONS + AZURE_REGIONS:
        out.append(("cloud_region", r))
    for r in AWS_REGIONS:
        out.append(("cloud_zone", r + pick("abcd")))
    for r in GCP_REGIONS:
        out.append(("cloud_zone", r + "-" + pick("abcf")))
    for f in AWS_FAMILIES:
        for s in R.sample(AWS_SIZES, 5):
            out.append(("cloud_instance", f"{f}.{s}"))
    for t in GCP_TYPES + AZURE_TYPES:
        out.append(("cloud_instance", t))
    for _ in range(40):
        out.append(("cloud_instance", f"i-{hexs(17)}"))  # an EC2 instance id
    return out


def build_info():
    out = []
    for _ in range(120):
        out.append(("git_sha", hexs(40)))
    for _ in range(60):
        out.append(("git_sha", hexs(R.choice([7, 8, 9, 10, 12]))))
    for _ in range(20):
        out.append(("git_sha", hexs(64)))  # SHA-256 object format
    for _ in range(120):
        v = semver()
        r = R.random()
        if r < 0.25:
            v = "v" + v
        elif r < 0.4:
            v += f"+{hexs(7)}"
        elif r < 0.5:
            v = f"v{v}-{R.randint(1, 40)}-g{hexs(7)}"  # git describe
        elif r < 0.55:
            v += "-dirty"
        out.append(("semver", v))
    for _ in range(30):
        out.append(("semver", f"{R.randint(2019, 2026)}.{R.randint(1, 12):02d}.{R.randint(1, 28):02d}-{hexs(8)}"))
    for _ in range(20):
        out.append(("semver", f"go1.{R.randint(18, 24)}.{R.randint(0, 9)}"))
        out.append(("semver", f"rustc 1.{R.randint(70, 95)}.{R.randint(0, 2)}"))
    return out


def kafka():
    out = []
    for _ in range(120):
        parts = [pick(WORDS)]
        if R.random() < 0.5:
            parts.append(pick(WORDS + ["events", "commands", "changes", "snapshots"]))
        if R.random() < 0.5:
            parts.append(f"v{R.randint(1, 5)}")
        if R.random() < 0.3:
            parts.append(pick(["dlq", "retry", "retry-5m", "compacted", "cdc"]))
        sep = pick([".", "-", "_"])
        t = sep.join(parts)
        if R.random() < 0.3:
            t = f"{pick(ENVS)}{sep}{t}"
        out.append(("kafka_topic", t))
    for _ in range(40):
        out.append(("kafka_topic", f"dbserver1.{pick(['public', 'inventory', 'shop'])}.{pick(WORDS)}"))
    for _ in range(100):
        g = f"{svc()}-{pick(['consumer', 'group', 'cg', 'processor', 'sink'])}"
        if R.random() < 0.5:
            g = f"{pick(['kafka-consumer-group', 'cg', 'group'])}-{pick(WORDS)}-v{R.randint(1, 4)}-{pick(ENVS)}"
        out.append(("kafka_group", g))
    out.append(("kafka_group", "kafka-consumer-group-orders-v2-prod"))
    out.append(("kafka_group", "connect-cluster-configs"))
    return out


def jobs():
    out = []
    for _ in range(150):
        style = R.random()
        w = pick(WORDS)
        v = pick(VERBS)
        if style < 0.3:
            j = f"{v}_{w}"
        elif style < 0.5:
            j = f"{w}.{v}"
        elif style < 0.7:
            j = f"{pick(['app', 'core', 'billing', 'jobs', 'tasks'])}.tasks.{v}_{w}"
        elif style < 0.85:
            j = "".join(x.capitalize() for x in [v, w]) + pick(["Job", "Worker", "Task", "Handler"])
        else:
            j = f"{pick(['nightly', 'hourly', 'daily', 'weekly'])}-{w}-{v}"
        out.append(("job_name", j))
    for _ in range(60):
        out.append(("queue_name", pick([f"{w}-queue" for w in WORDS] + [f"{w}_{pick(['high', 'low', 'default'])}" for w in WORDS]
                                       + [f"{pick(COMPANIES)}-{pick(ENVS)}-{pick(WORDS)}.fifo"])))
    for _ in range(20):
        out.append(("queue_name", f"https://sqs.{pick(AWS_REGIONS)}.amazonaws.com/{R.randint(100000000000, 999999999999)}/{pick(WORDS)}-{pick(ENVS)}"))
    return out


def sql():
    out = []
    for _ in range(120):
        op = pick(["SELECT", "INSERT", "UPDATE", "DELETE", "UPSERT", "MERGE", "COPY"])
        t = pick(WORDS)
        r = R.random()
        if r < 0.3:
            s = f"{op} {t}"
        elif r < 0.5:
            s = f"{op.lower()}_{t}"
        elif r < 0.65:
            s = f"{op}_{t}_by_{pick(WORDS)}_and_{pick(['status', 'date', 'id', 'type'])}"
        elif r < 0.8:
            s = f"{pick(VERBS)}{t.capitalize()}By{pick(WORDS).capitalize()}"
        else:
            s = f"{pick(['public', 'app', 'billing'])}.{t}.{op.lower()}"
        out.append(("sql_operation", s))
    for s in ["BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "VACUUM", "ANALYZE", "REFRESH MATERIALIZED VIEW"]:
        out.append(("sql_operation", s))
    return out


def paths():
    out = []
    for _ in range(140):
        r = R.random()
        if r < 0.3:
            p = f"/var/lib/{pick(['postgresql', 'mysql', 'redis', 'docker', 'kubelet', 'prometheus'])}/{pick(['data', 'main', str(R.randint(10, 17)), 'wal'])}"
        elif r < 0.5:
            p = f"/srv/{pick(COMPANIES)}/{pick(WORDS)}/{pick(['current', 'releases/' + semver(), 'shared'])}/{pick(['config.yaml', 'app.log', 'index.html', 'main.js'])}"
        elif r < 0.65:
            p = f"/home/{pick(['deploy', 'app', 'ubuntu', 'ec2-user'])}/{pick(WORDS)}/{pick(['logs', 'tmp', 'cache'])}"
        elif r < 0.8:
            p = f"s3://{pick(COMPANIES)}-{pick(WORDS)}-{pick(ENVS)}/{pick(WORDS)}/{R.randint(2020, 2026)}/{R.randint(1, 12):02d}/"
        elif r < 0.9:
            p = f"C:\\Program Files\\{pick(COMPANIES).capitalize()}\\{pick(WORDS).capitalize()}\\{pick(['app.exe', 'config.ini'])}"
        else:
            p = f"src/{pick(WORDS)}/{pick(WORDS)}_{pick(['handler', 'service', 'repository', 'test'])}.{pick(['rs', 'go', 'py', 'ts', 'java'])}"
        out.append(("file_path", p))
    return out


def images():
    out = []
    regs = ["", "docker.io/", "ghcr.io/", "quay.io/", "gcr.io/", "registry.k8s.io/", "public.ecr.aws/",
            f"{R.randint(100000000000, 999999999999)}.dkr.ecr.us-east-1.amazonaws.com/", "registry.gitlab.com/"]
    for _ in range(150):
        repo = f"{pick(COMPANIES)}/{svc()}" if R.random() < 0.7 else pick(["nginx", "redis", "postgres", "envoyproxy/envoy", "ingress-nginx/controller", "prometheus/node-exporter", "grafana/grafana", "bitnami/kafka"])
        r = R.random()
        if r < 0.5:
            ref = f"{pick(regs)}{repo}:{pick(['v', ''])}{semver()}"
        elif r < 0.65:
            ref = f"{pick(regs)}{repo}:{pick(['latest', 'stable', 'main', 'alpine', '1.25-alpine', 'bookworm-slim'])}"
        elif r < 0.8:
            ref = f"{pick(regs)}{repo}:{hexs(R.choice([7, 8, 12, 40]))}"
        else:
            ref = f"{pick(regs)}{repo}@sha256:{hexs(64)}"
        out.append(("container_image", ref))
    return out


def user_agents():
    out = []
    for f in UA_FAMILIES:
        out.append(("user_agent", f))
        for _ in range(2):
            out.append(("user_agent", f"{f} {R.randint(1, 130)}"))
            out.append(("user_agent", f"{f}/{R.randint(1, 130)}.{R.randint(0, 9)}"))
    for _ in range(20):
        out.append(("user_agent", f"Mozilla/5.0 ({pick(['X11; Linux x86_64', 'Windows NT 10.0; Win64; x64', 'Macintosh; Intel Mac OS X 10_15_7', 'iPhone; CPU iPhone OS 17_5 like Mac OS X'])})"))
    return out


def errors():
    out = []
    codes = ["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH",
             "ERR_CONNECTION_RESET", "ERR_TLS_CERT_ALTNAME_INVALID", "DEADLINE_EXCEEDED", "UNAVAILABLE",
             "RESOURCE_EXHAUSTED", "PERMISSION_DENIED", "UNAUTHENTICATED", "NOT_FOUND", "ALREADY_EXISTS",
             "FAILED_PRECONDITION", "INTERNAL", "context canceled", "context deadline exceeded",
             "connection refused", "broken pipe", "i/o timeout", "TimeoutError", "ConnectionResetError",
             "ValidationError", "IntegrityError", "OperationalError", "NullPointerException",
             "SocketTimeoutException", "OutOfMemoryError", "SQLSTATE 40001", "SQLSTATE 23505",
             "invalid_grant", "invalid_request", "insufficient_scope", "rate_limited", "card_declined",
             "insufficient_funds", "expired_card", "token_expired", "invalid_token", "session_expired"]
    for c in codes:
        out.append(("error_code", c))
    for _ in range(60):
        out.append(("error_code", pick([f"E{R.randint(1000, 9999)}", f"ERR-{R.randint(100, 999)}",
                                        f"{pick(WORDS).upper()}_{pick(['NOT_FOUND', 'INVALID', 'CONFLICT', 'LOCKED', 'EXPIRED'])}",
                                        f"HTTP {pick([400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504])}",
                                        f"{R.choice([400, 401, 403, 404, 409, 429, 500, 502, 503])}",
                                        f"{pick(WORDS).capitalize()}{pick(['NotFound', 'Invalid', 'Timeout', 'Rejected'])}Error"])))
    return out


def misc():
    out = []
    for _ in range(60):
        out.append(("tenant", f"{pick(COMPANIES)}-{pick(['eu', 'us', 'apac'])}-{R.randint(1, 99)}"))
        out.append(("feature_flag", f"{pick(['enable', 'use', 'rollout'])}_{pick(WORDS)}_{pick(WORDS)}_{pick(['v2', 'beta', 'experiment'])}"))
    for _ in range(30):
        w = [pick(WORDS).capitalize() for _ in range(R.randint(2, 4))]
        out.append(("class_name", "".join(w) + pick(["Controller", "Service", "Repository", "Handler", "Impl", "Factory", "ServiceImplementation"])))
        out.append(("class_name", f"com.{pick(COMPANIES)}.{pick(WORDS)}.{''.join(w)}Handler"))
    for _ in range(20):
        out.append(("status", pick(["200", "201", "204", "301", "304", "400", "404", "500", "2xx", "4xx", "5xx", "OK", "ok", "error", "timeout"])))
    out.append(("text", "Grüße aus München"))
    out.append(("text", "東京リージョン"))
    return out


def benign():
    rows = (routes() + k8s() + hosts() + cloud() + build_info() + kafka() + jobs() + sql() + paths()
            + images() + user_agents() + errors() + misc())
    seen, out = set(), []
    for kind, v in rows:
        if v not in seen and "\t" not in v and "\n" not in v:
            seen.add(v)
            out.append((kind, v))
    return out


# ----------------------------------------------------------------------------- secrets

B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
B64URL = B64[:62] + "-_"
ALNUM = B64[:62]


def rand(alpha, n):
    return "".join(R.choice(alpha) for _ in range(n))


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def provider_tokens():
    out = []
    gens = [
        lambda: f"sk_live_{rand(ALNUM, R.choice([24, 34, 99]))}",
        lambda: f"rk_live_{rand(ALNUM, 24)}",
        lambda: f"sk_test_{rand(ALNUM, 24)}",
        lambda: f"ghp_{rand(ALNUM, 36)}",
        lambda: f"gho_{rand(ALNUM, 36)}",
        lambda: f"ghs_{rand(ALNUM, 36)}",
        lambda: f"github_pat_{rand(ALNUM, 22)}_{rand(ALNUM, 59)}",
        lambda: f"xoxb-{R.randint(10**10, 10**12)}-{R.randint(10**10, 10**12)}-{rand(ALNUM, 24)}",
        lambda: f"xoxp-{R.randint(10**10, 10**12)}-{R.randint(10**10, 10**12)}-{R.randint(10**10, 10**12)}-{hexs(32)}",
        lambda: f"AKIA{rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}",
        lambda: f"ASIA{rand('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}",
        lambda: f"AIza{rand(B64URL, 35)}",
        lambda: f"glpat-{rand(B64URL, 20)}",
        lambda: f"npm_{rand(ALNUM, 36)}",
        lambda: f"sk-{rand(ALNUM, 48)}",
        lambda: f"sk-proj-{rand(B64URL, 64)}",
        lambda: f"sk-ant-api03-{rand(B64URL, 93)}AA",
        lambda: f"SG.{rand(B64URL, 22)}.{rand(B64URL, 43)}",
        lambda: f"SK{hexs(32)}",
        lambda: f"shpat_{hexs(32)}",
        lambda: f"pypi-AgEIcHlwaS5vcmc{rand(B64URL, 60)}",
        lambda: f"dop_v1_{hexs(64)}",
        lambda: f"hf_{rand(ALNUM, 34)}",
        lambda: f"key-{hexs(32)}",
        lambda: f"sq0atp-{rand(B64URL, 22)}",
        lambda: f"glsa_{rand(ALNUM, 32)}_{hexs(8)}",
    ]
    for i in range(130):
        out.append(("provider_token", gens[i % len(gens)]()))
    return out


def jwts():
    out = []
    for _ in range(60):
        header = {"alg": pick(["HS256", "RS256", "ES256"]), "typ": "JWT"}
        if R.random() < 0.5:
            header["kid"] = hexs(16)
        payload = {"sub": str(R.randint(1, 10**9)), "iat": R.randint(1.6e9, 1.8e9), "exp": R.randint(1.8e9, 1.9e9)}
        if R.random() < 0.5:
            payload["email"] = f"{pick(WORDS)}@{pick(COMPANIES)}.com"
        sig = os.urandom(0) or bytes(R.getrandbits(8) for _ in range(pick([32, 64, 256])))
        out.append(("jwt", ".".join([b64url(json.dumps(header).encode()), b64url(json.dumps(payload).encode()), b64url(sig)])))
    return out


def auth_headers():
    out = []
    for _ in range(40):
        out.append(("bearer", f"{pick(['Bearer', 'bearer', 'BEARER'])} {rand(B64URL + '.~', R.randint(20, 60))}"))
    for _ in range(40):
        user = pick(WORDS) + str(R.randint(0, 99))
        pw = rand(ALNUM + "!@#$%", R.randint(8, 20))
        out.append(("basic", f"{pick(['Basic', 'basic'])} {base64.b64encode(f'{user}:{pw}'.encode()).decode()}"))
    for _ in range(10):
        out.append(("bearer", f"Authorization: Bearer {rand(ALNUM, 32)}"))
    return out


def emails():
    first = ["alice", "bob", "carol", "dave", "eve", "frank", "grace", "heidi", "ivan", "judy", "mallory",
             "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoë".encode("ascii", "ignore").decode()]
    last = ["smith", "jones", "garcia", "müller".replace("ü", "u"), "nguyen", "kim", "rossi", "dubois", "tanaka", "silva"]
    out = []
    for _ in range(70):
        f, l = pick(first), pick(last)
        local = pick([f, f"{f}.{l}", f"{f}{R.randint(1, 99)}", f"{f[0]}{l}", f"{f}+{pick(WORDS)}", f"{f}_{l}"])
        dom = pick(["gmail.com", "yahoo.co.uk", "outlook.com", f"{pick(COMPANIES)}.com", f"{pick(COMPANIES)}.io",
                    f"mail.{pick(COMPANIES)}.de", "proton.me", "icloud.com"])
        e = f"{local}@{dom}"
        r = R.random()
        if r < 0.15:
            e = e.upper() if R.random() < 0.5 else e.capitalize()
        elif r < 0.3:
            e = f"user={e}"
        elif r < 0.4:
            e = f"/users/{e}/profile"
        out.append(("email", e))
    return out


def luhn_complete(prefix, length):
    digits = [int(c) for c in prefix] + [R.randint(0, 9) for _ in range(length - len(prefix) - 1)]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return "".join(map(str, digits)) + str((10 - total % 10) % 10)


def cards():
    brands = [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15),
              ("37", 15), ("6011", 16), ("65", 16), ("36", 14), ("3530", 16), ("62", 16), ("62", 19)]
    out = []
    for i in range(90):
        p, n = brands[i % len(brands)]
        num = luhn_complete(p, n)
        style = i % 5
        if style == 1:
            num = " ".join(num[j:j + 4] for j in range(0, n, 4))
        elif style == 2:
            num = "-".join(num[j:j + 4] for j in range(0, n, 4))
        elif style == 3 and n == 15:
            num = f"{num[:4]} {num[4:10]} {num[10:]}"
        elif style == 4:
            num = f"card:{num}"
        out.append(("card_number", num))
    return out


def random_tokens():
    out = []
    for i in range(90):
        n = 20 + (i * 7) % 45  # 20..64
        out.append(("random_base64", rand(B64 if i % 2 else B64URL, n)))
    for i in range(60):
        data = bytes(R.getrandbits(8) for _ in range(R.randint(15, 48)))
        out.append(("random_base64", base64.b64encode(data).decode()[:64]))
    hex_lengths = [n for n in range(20, 65) if n not in (40, 64)]  # 40 and 64: see docs/policy.md
    for i in range(90):
        n = hex_lengths[i % len(hex_lengths)]
        h = hexs(n)
        out.append(("random_hex", h.upper() if i % 6 == 5 else h))
    return out


def secrets():
    rows = provider_tokens() + jwts() + auth_headers() + emails() + cards() + random_tokens()
    seen, out = set(), []
    for kind, v in rows:
        if v not in seen:
            seen.add(v)
            out.append((kind, v))
    return out


def write(name, rows, title):
    with open(os.path.join(HERE, name), "w", encoding="utf-8") as f:
        f.write(f"# {title}\n# kind<TAB>value; written by make_corpora.py (seeded; rerun to reproduce)\n")
        for kind, v in rows:
            f.write(f"{kind}\t{v}\n")
    return len(rows)


if __name__ == "__main__":
    b = write("benign_label_values.tsv", benign(), "Benign label values: none may be redacted")
    s = write("secret_label_values.tsv", secrets(), "Secrets and personal data: each must be detected")
    print(f"benign: {b}, secret: {s}")
