"""`Reference`: the lite profile's search, stage by stage, timed the way the engine times it.

Mirrors crates/engine/src/engine.rs (`Engine::open`, `Engine::search`): the same inputs (the
manifest's models, the catalog folder), the same stages in the same order, the same timing rule (a
model pass is charged to the first stage that needs it: in the lite profile EfficientNet-Lite0's
single pass gives the router's logits, the embedding and the texture descriptor, so its time is in
`route`, as in the engine).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from . import stages
from .catalog import open_catalog
from .models import load_manifest, load_model

STAGES = ("decode", "segment", "route", "embed", "retrieve", "texture", "color", "rerank", "total")


class Inference:
    """Model outputs for one image, each model run at most once (the engine's `features::Features`)."""

    def __init__(self, models: dict, image: np.ndarray):
        self.models, self.image, self.outputs = models, image, {}

    def output(self, ref: tuple[str, str]) -> np.ndarray:
        model, output = ref
        if model not in self.outputs:
            self.outputs[model] = self.models[model].run(self.image)
        return self.outputs[model][output]


def _ref(table: dict) -> tuple[str, str]:
    return table["model"], table["output"]


class Reference:
    def __init__(self, models_dir: str | Path = "models", catalog_dir: str | Path = "catalog/demo", profile=None):
        self.manifest = load_manifest(models_dir)
        self.catalog = open_catalog(catalog_dir)
        self.profile_name = profile or self.catalog.file["profile"]
        if self.profile_name != self.catalog.file["profile"]:
            raise ValueError(f"catalog built with profile `{self.catalog.file['profile']}`, asked for `{self.profile_name}`")
        self.profile = self.manifest.profile(self.profile_name)
        p = self.profile
        ids = [p["segmenter"], p["router"]["model"], *(e["model"] for e in p["experts"].values()), p["texture"]["model"]]
        self.models = {i: load_model(self.manifest, i) for i in dict.fromkeys(ids)}
        self._check_catalog()
        self.router_kind = p["router"]["kind"]
        if self.router_kind == "class_table":
            spec = self.manifest.output_spec(*_ref(p["router"]))
            classes = int(np.prod(spec["dims"][1:]))
            self.class_table = stages.class_table(classes, self.catalog.categories)
        self.decode_opts = stages.DecodeOptions()
        self.segment_opts = stages.SegmentOptions()

    def _check_catalog(self):
        """The catalog's vectors must come from the very model files loaded here (engine's check_catalog)."""
        stamps = self.catalog.file["models"]
        want = [("router", stamps["router"], _ref(self.profile["router"])), ("texture", stamps["texture"], _ref(self.profile["texture"]))]
        want += [(f"expert {e}", stamps["experts"][e], _ref(self.profile["experts"][e])) for e in stamps["experts"]]
        for part, stamp, (model, output) in want:
            if (stamp["model"], stamp["output"]) != (model, output) or stamp["sha256"] != self.models[model].sha256:
                raise ValueError(f"catalog {part} was built with {stamp}, this profile loads {model}.{output} sha256 {self.models[model].sha256}")

    def expert_of(self, category: int) -> tuple[str, str]:
        return _ref(self.profile["experts"][self.catalog.categories[category]["expert"]])

    def route(self, inference: Inference) -> dict:
        names = self.catalog.category_names
        cfg = self.catalog.file["router"]
        raw = inference.output(_ref(self.profile["router"]))
        if self.router_kind == "class_table":
            shares, mass = stages.class_table_scores(self.class_table, raw)
            return stages.decide(names, shares, mass, cfg)
        protos = [np.asarray(c.get("prototype", []), dtype=np.float32) for c in self.catalog.categories]
        shares = stages.prototype_scores(stages.embed(raw), protos, cfg.get("temperature", 100.0))
        return stages.decide(names, shares, float(shares.max()), cfg)

    def _scan(self, indices, queries, candidates):
        """One scan per expert in use; a second expert's scores aligned onto the first's; top-k."""
        groups: dict[tuple, list] = {}
        for ci in indices:
            r = self.expert_of(ci)
            if r not in queries:
                continue
            a, b = self.catalog.categories[ci]["rows"]
            groups.setdefault(r, []).extend(stages.scan(self.catalog.embeddings, range(a, b), queries[r]))
        scored, reference = [], None
        for i, s in enumerate(groups.values()):
            if i == 0:
                reference = stages.moments(s)
            else:
                s = stages.align(s, stages.moments(s), reference)
            scored.extend(s)
        return stages.top_k(scored, candidates)

    def search(
        self,
        data: bytes,
        category: str | None = None,
        weights: dict | None = None,
        top_k: int = 10,
        candidates: int = 50,
        keep_images: bool = False,
    ) -> dict:
        """One search; `keep_images` adds the cut-out and the mask (numpy arrays) to the result."""
        start = time.perf_counter()
        t = dict.fromkeys(STAGES, 0.0)
        # catalogs built since issue 13 store a blend only when the merchant set one
        weights = weights or self.catalog.file.get("blend") or {"semantic": 0.5, "texture": 0.3, "color": 0.2}
        names = self.catalog.category_names
        override = names.index(category) if category is not None else None

        s = time.perf_counter()
        image, info = stages.decode(data, self.decode_opts)
        t["decode"] = _ms(s)

        s = time.perf_counter()
        segmenter = None if info["alpha_cutout"] else self.models[self.profile["segmenter"]]
        cutout, mask, seg = stages.segment(image, info, segmenter, self.segment_opts)
        t["segment"] = _ms(s)

        inference = Inference(self.models, cutout)
        s = time.perf_counter()
        route = self.route(inference)
        if override is not None:
            route = stages.overridden(route, names, override)
        t["route"] = _ms(s)

        s = time.perf_counter()
        queries = {}
        for ci in route["selected"]:
            r = self.expert_of(ci)
            if r not in queries:
                queries[r] = stages.embed(inference.output(r))
        t["embed"] = _ms(s)

        # retrieve: routed categories first, topped up from the others when they hold too few items
        s = time.perf_counter()
        extra_embed = 0.0
        shortlist = [(r, sc, True) for r, sc in self._scan(route["selected"], queries, candidates)]
        rest = [i for i in range(len(names)) if i not in route["selected"]]
        if len(shortlist) < candidates and rest:
            extra = self._scan(rest, queries, candidates)
            if len(shortlist) + len(extra) < top_k:
                e = time.perf_counter()
                for ci in rest:
                    r = self.expert_of(ci)
                    if r not in queries:
                        queries[r] = stages.embed(inference.output(r))
                extra_embed = _ms(e)
                extra = self._scan(rest, queries, candidates)
            room = candidates - len(shortlist)
            shortlist += [(r, sc, False) for r, sc in extra[:room]]
        t["retrieve"] = _ms(s) - extra_embed
        t["embed"] += extra_embed
        rows = [r for r, _, _ in shortlist]

        s = time.perf_counter()
        tq = stages.texture_descriptor(inference.output(_ref(self.profile["texture"])), self.catalog.texture_center)
        tex = stages.texture_scores(tq, self.catalog.texture[rows])
        t["texture"] = _ms(s)

        s = time.perf_counter()
        qsig = stages.color_signature(cutout)
        col = stages.color_scores(qsig, self.catalog.colors[rows])
        t["color"] = _ms(s)

        # rerank: routed categories rank above top-up items; within each group the blend decides
        s = time.perf_counter()
        scored = [
            {"row": r, "semantic": np.float32(sem), "texture": tex[i], "color": col[i], "routed": routed}
            for i, (r, sem, routed) in enumerate(shortlist)
        ]
        ranked = stages.rerank([c for c in scored if c["routed"]], weights, top_k)
        ranked += stages.rerank([c for c in scored if not c["routed"]], weights, top_k - len(ranked))
        results = [self._hit(i + 1, c) for i, c in enumerate(ranked)]
        t["rerank"] = _ms(s)
        t["total"] = _ms(start)

        extra = {"cutout": cutout, "mask": mask} if keep_images else {}
        return {
            **extra,
            "image": info,
            "categories": route["scores"],
            "route": {k: route[k] for k in ("reason", "searched", "confidence")},
            "segmentation": seg,
            "results": results,
            "timings_ms": t,
        }

    def _hit(self, rank: int, c: dict) -> dict:
        p = self.catalog.products[c["row"]]
        return {
            "rank": rank,
            "id": p["id"],
            "name": p["name"],
            "category": p["category"],
            "score": float(c["score"]),
            "semantic": float(c["semantic"]),
            "texture": float(c["texture"]),
            "color": float(c["color"]),
            "routed": c["routed"],
        }


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0
