"""What the simulated container registry answers when the kubelet pulls an image.

The sandbox has no registry, so it decides like NGC would, deterministically:
- an ``nvcr.io`` image needs credentials: a pod ``imagePullSecret`` that exists in the namespace
  and holds an ``nvcr.io`` entry whose password is a valid NGC key (see ``api_key_is_valid``);
  anything else is the registry's ``unauthorized: authentication required``;
- an authorised ``nvcr.io/nim/...`` image exists when the project's NIM catalog lists it: the ConfigMap
  named by an Account's ``status.nimConfig`` in the pod's namespace, one JSON entry per model
  (``namespace`` such as ``nim/meta``, ``name``, ``tags``), image ``nvcr.io/<namespace>/<name>:<tag>``.
  A tag the catalog does not list is the registry's "manifest unknown" / "not found". Without a
  catalog in the namespace there is nothing to check against and the image exists;
- images from other registries are public and always exist.
Messages follow the node's container runtime (``status.nodeInfo.containerRuntimeVersion``): CRI-O,
as on OpenShift, or containerd.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from urllib.parse import quote

from .base import ACCOUNTS, CONFIGMAPS, SECRETS, Obj, Store, as_dict, as_list, digest

NGC_REGISTRY = "nvcr.io"


def api_key_is_valid(key: str) -> bool:
    """The sandbox's stand-in for NVIDIA's key check.

    Personal keys (``nvapi-...``) are valid unless they contain the text ``invalid``, so tests and
    demos can provoke every failure path with a key that looks real; legacy keys and empty
    strings are rejected, as NGC rejects keys it does not know.
    """
    key = key.strip()
    return key.startswith("nvapi-") and "invalid" not in key.lower()


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str  # without the registry, e.g. nim/meta/llama-3.1-8b-instruct
    tag: str  # "" when pulled by digest
    digest: str  # "" when pulled by tag

    @property
    def reference(self) -> str:
        return self.tag if self.tag else self.digest

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"


def parse_image(image: str) -> ImageRef:
    """Split an image reference the way the container runtimes normalise it."""
    rest, _, dig = image.partition("@")
    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = "docker.io", rest
        if "/" not in path:
            path = f"library/{path}"
    repository, tag = path, ""
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        repository, tag = path.rsplit(":", 1)
    if not tag and not dig:
        tag = "latest"
    return ImageRef(registry=registry, repository=repository, tag=tag, digest=dig)


def image_id(image: str) -> str:
    ref = parse_image(image)
    return f"{ref.name}@sha256:{digest('image', ref.name, ref.reference)}"


def image_size(image: str) -> int:
    """A plausible compressed size: NIM LLM images are 6-9 GB, everything else a few hundred MB."""
    ref = parse_image(image)
    base = int(digest("size", image, length=8), 16)
    if ref.registry == NGC_REGISTRY:
        return 6_000_000_000 + base % 3_000_000_000
    return 150_000_000 + base % 400_000_000


# ---------------------------------------------------------------- credentials and catalog


def _docker_auths(secret: Obj) -> dict[str, dict[str, str]]:
    data = as_dict(secret.get("data"))
    raw = data.get(".dockerconfigjson") or data.get(".dockercfg")
    if not isinstance(raw, str):
        return {}
    try:
        parsed = json.loads(base64.b64decode(raw))
    except (binascii.Error, ValueError):
        return {}
    auths = parsed.get("auths", parsed) if isinstance(parsed, dict) else {}
    return {k: v for k, v in auths.items() if isinstance(v, dict)} if isinstance(auths, dict) else {}


def _password(entry: dict[str, str]) -> str:
    if isinstance(entry.get("password"), str):
        return entry["password"]
    auth = entry.get("auth")
    if isinstance(auth, str):
        try:
            return base64.b64decode(auth).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


@dataclass(frozen=True)
class PullSecrets:
    missing: tuple[str, ...]  # names listed by the pod that do not exist
    authorised: bool  # an existing secret carries a valid key for nvcr.io


def pull_secrets(store: Store, namespace: str, pod: Obj) -> PullSecrets:
    missing: list[str] = []
    authorised = False
    for ref in as_list(as_dict(pod.get("spec")).get("imagePullSecrets")):
        secret_name = str(as_dict(ref).get("name", ""))
        if not secret_name:
            continue
        secret = store.try_get(SECRETS, namespace, secret_name)
        if secret is None:
            missing.append(secret_name)
            continue
        for registry, entry in _docker_auths(secret).items():
            host = registry.removeprefix("https://").removeprefix("http://").split("/")[0]
            if host == NGC_REGISTRY and api_key_is_valid(_password(entry)):
                authorised = True
    return PullSecrets(missing=tuple(missing), authorised=authorised)


def catalog_images(store: Store, namespace: str) -> dict[str, set[str]] | None:
    """``nvcr.io/<org>/<name>`` -> listed tags, from the project's NIM catalog; None without one."""
    found = False
    images: dict[str, set[str]] = {}
    for account in store.list(ACCOUNTS, namespace)[0]:
        cm_name = as_dict(as_dict(account.get("status")).get("nimConfig")).get("name")
        if not cm_name:
            continue
        cm = store.try_get(CONFIGMAPS, namespace, str(cm_name))
        if cm is None:
            continue
        found = True
        for value in as_dict(cm.get("data")).values():
            try:
                entry = json.loads(value)
            except (TypeError, ValueError):
                continue
            if not isinstance(entry, dict) or not isinstance(entry.get("namespace"), str):
                continue
            tags = as_list(entry.get("tags"))
            repo = f"{NGC_REGISTRY}/{entry['namespace']}/{entry.get('name', '')}"
            images.setdefault(repo, set()).update(str(t) for t in tags)
    return images if found else None


# ---------------------------------------------------------------- the registry's answer


@dataclass(frozen=True)
class PullResult:
    ok: bool
    error: str = ""  # what the runtime reports after 'Failed to pull image "<image>": '


def pull(store: Store, namespace: str, pod: Obj, image: str, *, runtime: str) -> PullResult:
    ref = parse_image(image)
    if ref.registry != NGC_REGISTRY:
        return PullResult(ok=True)
    if not pull_secrets(store, namespace, pod).authorised:
        return PullResult(ok=False, error=_unauthorised(image, ref, runtime))
    catalog = catalog_images(store, namespace) if ref.repository.startswith("nim/") else None
    if catalog is not None:
        tags = catalog.get(ref.name)
        if tags is None or (ref.tag and ref.tag not in tags):
            return PullResult(ok=False, error=_not_found(image, ref, runtime))
    return PullResult(ok=True)


def _containerd(runtime: str) -> bool:
    return runtime.startswith("containerd")


def _unauthorised(image: str, ref: ImageRef, runtime: str) -> str:
    if _containerd(runtime):
        scope = quote(f"repository:{ref.repository}:pull", safe="")
        return (
            f'failed to pull and unpack image "{image}": failed to resolve reference "{image}": '
            f"failed to authorize: failed to fetch anonymous token: unexpected status from GET request to "
            f"https://{ref.registry}/proxy_auth?scope={scope}: 401 Unauthorized"
        )
    return "unable to retrieve auth token: invalid username/password: unauthorized: authentication required"


def _not_found(image: str, ref: ImageRef, runtime: str) -> str:
    if _containerd(runtime):
        return (
            f'failed to pull and unpack image "{image}": '
            f'failed to resolve reference "{image}": {image}: not found'
        )
    return f"reading manifest {ref.reference} in {ref.name}: manifest unknown"
