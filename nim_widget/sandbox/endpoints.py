"""The verbs behind the resource URLs: create, get, list, update, patch, delete, access reviews.

Each verb validates its query options first (an invalid option is a 422 on ``CreateOptions`` and
friends, before anything else), then decodes the body by Content-Type, then hands the object to
the store, which owns validation, versioning and events.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import yaml

from . import discovery, patching, protobuf
from .access import Access
from .admission import WriteOptions, structure_causes
from .clock import Clock
from .kinds import Kind, Registry
from .selectors import FieldSelector, LabelSelector, parse_field_selector, parse_label_selector
from .status import (
    ApiError,
    bad_request,
    invalid_error,
    method_not_allowed,
    not_supported,
    required,
    unsupported_media_type,
)
from .status import forbidden_field as forbidden_cause
from .store import Store
from .wire import JSON, Request, Response, json_response, json_type, loads_with_duplicates

Obj = dict[str, Any]
FIELD_VALIDATION_VALUES = ("", "Ignore", "Strict", "Warn")
OPTIONS_KIND = {
    "create": "CreateOptions",
    "update": "UpdateOptions",
    "patch": "PatchOptions",
    "delete": "DeleteOptions",
    "deletecollection": "DeleteOptions",
}


class Endpoints:
    def __init__(self, *, store: Store, registry: Registry, access: Access, clock: Clock) -> None:
        self.store = store
        self.registry = registry
        self.access = access
        self.clock = clock

    def resource(self, req: Request, warnings: list[str]) -> Response:
        kind = req.kind
        assert kind is not None
        if kind.key == "selfsubjectaccessreviews.authorization.k8s.io":
            return self._access_review(req)
        if req.verb == "get":
            return json_response(200, self.store.get_ref(kind.key, req.namespace, req.name))
        if req.verb == "list":
            return self._list(req, kind)
        opts = self._write_options(req)
        if req.verb == "create":
            body = dict(self._decode_object(req, kind))  # the log keeps what the client sent
            meta = dict(body["metadata"]) if isinstance(body.get("metadata"), dict) else {}
            body["metadata"] = meta
            if kind.namespaced:
                if meta.get("namespace") and meta["namespace"] != req.namespace:
                    raise bad_request(
                        "the namespace of the provided object does not match the namespace sent on "
                        "the request"
                    )
                meta["namespace"] = req.namespace
            self._strict_duplicates(req, kind, opts)
            result = self.store.create_ex(kind.key, body, opts)
            warnings.extend(result.warnings)
            return json_response(201, result.obj)
        if req.verb == "update":
            body = dict(self._decode_object(req, kind))
            meta = dict(body["metadata"]) if isinstance(body.get("metadata"), dict) else {}
            body["metadata"] = meta
            if (meta.get("name") or "") != req.name:
                raise bad_request(
                    f"the name of the object ({meta.get('name') or ''}) does not match the name on "
                    f"the URL ({req.name})"
                )
            if kind.namespaced:
                if meta.get("namespace") and meta["namespace"] != req.namespace:
                    raise bad_request(
                        f"the namespace of the object ({meta['namespace']}) does not match the "
                        f"namespace on the URL ({req.namespace})"
                    )
                meta["namespace"] = req.namespace
            self._strict_duplicates(req, kind, opts)
            result = self.store.replace_ex(kind.key, body, opts, subresource=req.subresource)
            warnings.extend(result.warnings)
            return json_response(200, result.obj)
        if req.verb == "patch":
            return self._patch(req, kind, opts, warnings)
        if req.verb == "delete":
            return self._delete(req, kind)
        if req.verb == "deletecollection":
            return self._delete_collection(req, kind)
        raise method_not_allowed()

    def _write_options(self, req: Request) -> WriteOptions:
        """Validate the query options of a write as the XOptions validation does (422)."""
        causes = []
        if req.verb in ("delete", "deletecollection"):
            req.body = self._decode_delete_options(req)
        dry_run = list(req.query.get("dryRun", []))
        if isinstance(req.body, dict) and req.verb in ("delete", "deletecollection"):
            dry_run += list(req.body.get("dryRun") or [])
        if any(v != "All" for v in dry_run):
            causes.append(not_supported("dryRun", dry_run, ["All"]))
        directive = req.param("fieldValidation")
        if directive not in FIELD_VALIDATION_VALUES:
            causes.append(not_supported("fieldValidation", directive, FIELD_VALIDATION_VALUES))
        manager = req.param("fieldManager")
        if len(manager) > 128:
            causes.append(not_supported("fieldManager", manager, []))
        if req.verb == "patch":
            media = req.content_type.split(";", 1)[0].strip().lower()
            if media == patching.APPLY_PATCH:
                if not manager:
                    causes.insert(0, required("fieldManager", "is required for apply patch"))
            elif "force" in req.query:
                causes.insert(0, forbidden_cause("force", "may not be specified for non-apply patch"))
        if req.verb in ("delete", "deletecollection"):
            policy = req.param("propagationPolicy") or (req.body or {}).get("propagationPolicy") or ""
            if policy and policy not in ("Orphan", "Background", "Foreground"):
                causes.append(
                    not_supported("propagationPolicy", policy, ["Foreground", "Background", "Orphan"])
                )
        if causes:
            raise invalid_error(kind=OPTIONS_KIND[req.verb], group="meta.k8s.io", name="", causes=causes)
        return WriteOptions(
            dry_run=bool(dry_run), field_validation=directive or "Warn", field_manager=manager, from_http=True
        )

    def _decode_object(self, req: Request, kind: Kind) -> Obj:
        media = req.content_type.split(";", 1)[0].strip().lower()
        # no Content-Type means the first supported type (JSON), as NegotiateInputSerializer decides
        protobuf_ok = not kind.is_custom and protobuf.supports(kind.api_version, kind.kind)
        if media not in (JSON, "application/yaml", "") and not (media == protobuf.MEDIA_TYPE and protobuf_ok):
            accepted = [JSON, "application/yaml"] + ([protobuf.MEDIA_TYPE] if protobuf_ok else [])
            raise unsupported_media_type(accepted)
        if media == protobuf.MEDIA_TYPE:
            try:
                body: Any = protobuf.decode(req.raw_body)
            except protobuf.ProtobufError as exc:
                raise bad_request(f"the body of the request could not be decoded: {exc}") from None
        elif media == "application/yaml":
            try:
                body = yaml.safe_load(req.raw_body.decode() or "null")
            except yaml.YAMLError as exc:
                raise bad_request(f"error converting YAML to JSON: {exc}") from None
        else:
            body, req.duplicates = loads_with_duplicates(req.raw_body)
        req.body = body
        if not isinstance(body, dict):
            raise bad_request(
                "couldn't get version/kind; json parse error: json: cannot unmarshal "
                f"{json_type(body)} into Go value of type struct {{ APIVersion string "
                '"json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
            )
        api_version, kind_name = body.get("apiVersion"), body.get("kind")
        if api_version and api_version != kind.api_version:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API "
                f"version ({kind.api_version})"
            )
        if kind_name and kind_name != kind.kind:
            raise bad_request(
                f"{kind_name} in version {json.dumps(kind.version)} cannot be handled as a "
                f"{kind.kind}: no kind {json.dumps(kind_name)} is registered for version "
                f"{json.dumps(kind.api_version)}"
            )
        return body

    def _strict_duplicates(self, req: Request, kind: Kind, opts: WriteOptions) -> None:
        if req.duplicates and opts.field_validation == "Strict":
            detail = ", ".join(f"duplicate field {json.dumps(d)}" for d in req.duplicates)
            raise bad_request(
                f"{kind.kind} in version {json.dumps(kind.version)} cannot be handled as a "
                f"{kind.kind}: strict decoding error: {detail}"
            )

    def _patch(self, req: Request, kind: Kind, opts: WriteOptions, warnings: list[str]) -> Response:
        patch_type = patching.patch_type_for(req.content_type, custom=kind.is_custom)
        text = req.raw_body.decode() if req.raw_body else ""
        try:
            body = yaml.safe_load(text) if patch_type == patching.APPLY_PATCH else json.loads(text)
        except (ValueError, yaml.YAMLError) as exc:
            prefix = "error decoding YAML" if patch_type == patching.APPLY_PATCH else "error decoding patch"
            raise bad_request(f"{prefix}: {exc}") from None
        req.body = body
        force = req.param("force") == "true"
        result, created = self.store.patch_ex(
            kind.key,
            req.namespace,
            req.name,
            patch_type=patch_type,
            body=body,
            opts=opts,
            force=force,
            subresource=req.subresource,
        )
        warnings.extend(result.warnings)
        return json_response(201 if created else 200, result.obj)

    def _decode_delete_options(self, req: Request) -> Obj:
        if not req.raw_body.strip():
            return {}
        try:
            body = json.loads(req.raw_body)
        except ValueError as exc:
            raise bad_request(f"error decoding DeleteOptions: {exc}") from None
        return body if isinstance(body, dict) else {}

    def _delete(self, req: Request, kind: Kind) -> Response:
        opts = req.body or {}
        policy = req.param("propagationPolicy") or opts.get("propagationPolicy") or "Background"
        if opts.get("orphanDependents") is True or req.param("orphanDependents") == "true":
            policy = "Orphan"
        preconditions = dict(opts.get("preconditions") or {})
        obj = self.store.delete_ex(
            kind.key,
            req.namespace,
            req.name,
            dry_run=req.dry_run,
            propagation=policy,
            preconditions=preconditions,
        )
        return json_response(200, obj)

    def _delete_collection(self, req: Request, kind: Kind) -> Response:
        labels, fields = self.selectors(req, kind)
        items, _ = self.store.list_refs(kind.key, req.namespace or None, labels=labels, fields=fields)
        deleted = []
        for obj in items:
            meta = obj["metadata"]
            try:
                deleted.append(
                    self.store.delete_ex(kind.key, meta.get("namespace"), meta["name"], dry_run=req.dry_run)
                )
            except ApiError as error:
                if error.code != 404:
                    raise
        return json_response(
            200,
            {
                "apiVersion": kind.api_version,
                "kind": kind.list_kind,
                "metadata": {"resourceVersion": self.store.resource_version},
                "items": deleted,
            },
        )

    def selectors(self, req: Request, kind: Kind) -> tuple[LabelSelector | None, FieldSelector | None]:
        label_text, field_text = req.param("labelSelector"), req.param("fieldSelector")
        labels = parse_label_selector(label_text) if label_text else None
        fields = (
            parse_field_selector(field_text, resource=kind.plural, is_custom=kind.is_custom)
            if field_text
            else None
        )
        return labels, fields

    def _list(self, req: Request, kind: Kind) -> Response:
        labels, fields = self.selectors(req, kind)
        items, rv = self.store.list_refs(kind.key, req.namespace or None, labels=labels, fields=fields)
        meta: Obj = {"resourceVersion": rv}
        start = req.param("continue")
        if start:
            try:
                token = json.loads(base64.b64decode(start))
                after = (token["ns"], token["name"])
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise bad_request("continue key is not valid: invalid continue token") from None
            items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > after]
        limit_text = req.param("limit")
        if limit_text.isdigit() and 0 < int(limit_text) < len(items):
            limit = int(limit_text)
            last = items[limit - 1]["metadata"]
            token = {"rv": rv, "ns": last.get("namespace", ""), "name": last["name"]}
            meta["continue"] = base64.b64encode(json.dumps(token).encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        accept = req.headers.get("Accept", "")
        if "as=Table" in accept:
            table = discovery.table(
                kind, items, rv=rv, now=self.clock.now(), include=req.param("includeObject", "Metadata")
            )
            table["metadata"].update({k: v for k, v in meta.items() if k != "resourceVersion"})
            return json_response(200, table)
        return json_response(
            200, {"apiVersion": kind.api_version, "kind": kind.list_kind, "metadata": meta, "items": items}
        )

    def _access_review(self, req: Request) -> Response:
        kind = req.kind
        assert kind is not None
        self._write_options(req)
        body = self._decode_object(req, kind)
        causes = structure_causes(kind, body)
        if causes:
            raise invalid_error(kind=kind.kind, group=kind.group, name="", causes=causes)
        answer = {
            "kind": kind.kind,
            "apiVersion": kind.api_version,
            "metadata": {"creationTimestamp": None},
            "spec": body.get("spec") or {},
            "status": self.access.review(body),
        }
        return json_response(201, answer)
