#!/usr/bin/env python3
"""An adversarial statistician holding every released protected table (issue 11, mechanisms 1 to 6).

Written from the published contract only (README "Protected tables", openapi.yaml, DESIGN section 9) and the
catalogue a researcher is shown (catalogue.json, a transcription of Policies/): nothing here knows how the broker's
disclosure engine works inside.

    python3 Tests/Attacks/attack.py DIR [--catalogue FILE] [--local-authorities CSV] [--examples N]

DIR holds released documents (canonical JSON protected tables) and manifest.json:

    {"documents": [{"file": "m1-requests-A.json", "mechanisms": [1, 5, 6], "label": "..."}, ...]}

The documents describe themselves (query, project, parameters); the manifest lists them in the order they were
released (the order matters for what a `differencing` label says) and, informatively, which mechanism each was
made for. Exit status: 0 when no count of 1 to k-1 persons is determined exactly or within an interval narrower
than the [1, k-1] that threshold suppression itself concedes, and no mean or sum over fewer than k persons is
determined exactly; 1 otherwise; 2 on bad input. The output names populations and counts, never records.
"""

import argparse
import csv
import itertools
import json
import math
import os
import sys
from decimal import Decimal

import numpy as np
from scipy.optimize import linprog

INF = math.inf
HERE = os.path.dirname(os.path.abspath(__file__))


def quarter_index(text):
    year, q = text.split("Q")
    return int(year) * 4 + int(q) - 1


def quarter_name(index):
    return "%dQ%d" % (index // 4, index % 4 + 1)


def window_name(w):
    return quarter_name(w[0]) if w[0] == w[1] else "%s..%s" % (quarter_name(w[0]), quarter_name(w[1]))


def decimals_of(value):
    if isinstance(value, Decimal):
        return max(0, -value.as_tuple().exponent)
    return 0


# ----------------------------------------------------------------------------------------------------------------
# What the attacker knows: intervals over populations.
#
# A population is (view, constraints, window): constraints a frozenset of (attribute, value) (fixed filters,
# parameter filters, the cell's dimension values, a rate's flag), window a pair of quarter indices. A fact is an
# interval for the number of distinct persons ("persons") or of records ("events") in it.
# ----------------------------------------------------------------------------------------------------------------


class Fact:
    __slots__ = ("lo", "hi", "sources", "how")

    def __init__(self):
        self.lo, self.hi, self.sources, self.how = 0.0, INF, set(), set()


class Knowledge:
    def __init__(self):
        self.facts = {}  # (kind, view, cons, window) -> Fact
        self.conflicts = 0

    def add(self, kind, view, cons, window, lo, hi, source, how):
        key = (kind, view, cons, window)
        fact = self.facts.get(key)
        if fact is None:
            fact = self.facts[key] = Fact()
        new_lo, new_hi = max(fact.lo, lo), min(fact.hi, hi)
        if new_lo > new_hi + 1e-9:
            self.conflicts += 1  # two statements disagree: keep the newer, narrower one (should not happen)
            new_lo, new_hi = lo, hi
        tightened = new_lo > fact.lo + 1e-9 or new_hi < fact.hi - 1e-9
        fact.lo, fact.hi = new_lo, new_hi
        fact.sources.add(source)
        if tightened:
            fact.how.add(how)
        return tightened

    def get(self, kind, view, cons, window):
        return self.facts.get((kind, view, cons, window))


def describe(view, cons, window):
    parts = ["%s=%s" % (a, v) for a, v in sorted(cons) if a != "region_code" or not any(x == "la_code" for x, _ in cons)]
    return "%s[%s]{%s}" % (view, window_name(window), ", ".join(parts) or "all")


class Findings:
    """Determinations of small groups, per mechanism."""

    def __init__(self, examples):
        self.by_mechanism = {m: [] for m in range(1, 7)}
        self.notes = {m: [] for m in range(1, 7)}
        self.examples = examples
        self.seen = set()

    def small(self, mechanism, lo, hi, k, what, kind="count"):
        lo_i, hi_i = math.ceil(lo - 1e-6), math.floor(hi + 1e-6)
        exact = lo_i == hi_i
        if exact and 1 <= lo_i <= k - 1:
            grade = "exact"
        elif lo_i >= 1 and hi_i <= k - 1 and hi_i - lo_i < k - 2:
            grade = "narrow"
        else:
            return False
        key = (mechanism, what)
        if key in self.seen:
            return True
        self.seen.add(key)
        self.by_mechanism[mechanism].append((grade, kind, lo_i, hi_i, k, what))
        return True

    def mean(self, mechanism, what, persons_hi, k, precision):
        key = (mechanism, what)
        if key in self.seen:
            return
        self.seen.add(key)
        self.by_mechanism[mechanism].append(("exact", "mean", precision, int(persons_hi), k, what))

    def note(self, mechanism, text):
        self.notes[mechanism].append(text)

    def total(self):
        return sum(len(v) for v in self.by_mechanism.values())

    def report(self, out):
        titles = {
            1: "overlapping and nested windows (LP over activity patterns)",
            2: "rounding or perturbation undone by co-released measures (rate, mean, sum)",
            3: "complement means",
            4: "the same people through two vetted queries",
            5: "a cell and its own window total in one answer",
            6: "labels and missing rows",
        }
        for m in range(1, 7):
            found = self.by_mechanism[m]
            out.write("\n== mechanism %d: %s\n" % (m, titles[m]))
            for text in self.notes[m]:
                out.write("   %s\n" % text)
            if not found:
                out.write("   nothing below k determined\n")
                continue
            counts = {}
            for grade, kind, *_ in found:
                counts[(grade, kind)] = counts.get((grade, kind), 0) + 1
            for (grade, kind), n in sorted(counts.items()):
                if kind == "mean":
                    out.write("   FOUND %d means/sums over fewer than k persons determined exactly\n" % n)
                elif grade == "exact":
                    out.write("   FOUND %d groups of 1 to k-1 persons determined exactly (%s)\n" % (n, kind))
                else:
                    out.write("   FOUND %d groups of 1 to k-1 persons determined within an interval narrower than [1, k-1] (%s)\n" % (n, kind))
            sizes = {}
            for grade, kind, lo, hi, k, what in found:
                if grade == "exact" and kind != "mean":
                    sizes[lo] = sizes.get(lo, 0) + 1
            if sizes:
                out.write("   exact group sizes: %s\n" % ", ".join("%d person%s x%d" % (s, "" if s == 1 else "s", n) for s, n in sorted(sizes.items())))
            for grade, kind, lo, hi, k, what in sorted(found, key=lambda f: (f[0] != "exact", f[1] == "mean"))[: self.examples]:
                if kind == "mean":
                    out.write("     e.g. %s (to within %s; at most %d persons, k=%d)\n" % (what, lo, hi, k))
                else:
                    out.write("     e.g. %s: %s (k=%d)\n" % (what, ("exactly %d" % lo) if lo == hi else "%d..%d" % (lo, hi), k))


# ----------------------------------------------------------------------------------------------------------------
# Reading documents.
# ----------------------------------------------------------------------------------------------------------------


class Document:
    def __init__(self, index, path, entry, catalogue, region_of):
        with open(path, "rb") as f:
            self.json = json.loads(f.read().decode("utf-8"), parse_float=Decimal)
        d = self.json
        self.index, self.entry, self.file = index, entry, os.path.basename(path)
        self.query = d["query"]
        if self.query not in catalogue["queries"]:
            raise ValueError("%s: query %s is not in the catalogue" % (self.file, self.query))
        self.spec = catalogue["queries"][self.query]
        self.view = self.spec["view"]
        disclosure = d.get("disclosure", {})
        self.k = int(disclosure.get("threshold", 10))
        self.method = disclosure.get("method", "rounding" if int(disclosure.get("rounding_base", 1)) > 1 else "none")
        self.base = int(disclosure.get("rounding_base", 1) or 1)
        self.noise = int(disclosure.get("max_noise", 0) or 0)
        self.cell_key = self.method == "cell_key"
        params = d.get("parameters", {}) or {}
        self.window = (quarter_index(params["from"]), quarter_index(params["to"]))
        cons = set((a, str(v)) for a, v in self.spec.get("filters", {}).items())
        for name, dim in self.spec.get("parameters", {}).items():
            if params.get(name) is not None:
                cons.add((dim, str(params[name])))
                if dim == "la_code" and params[name] in region_of:
                    cons.add(("region_code", region_of[params[name]]))
        self.cons = frozenset(cons)
        self.params = params
        self.region_of = region_of
        self.source = (index, self.query)

    def population(self, dims):
        cons = set(self.cons)
        window = self.window
        for name, value in dims.items():
            if value is None:
                continue
            if name == "quarter":
                q = quarter_index(value)
                window = (q, q)
                continue
            cons.add((name, str(value)))
            if name == "la_code" and value in self.region_of:
                cons.add(("region_code", self.region_of[value]))
        return frozenset(cons), window

    def count_interval(self, cell, kind):
        """What a released count cell says about the true count (None: nothing)."""
        status, value, k = cell.get("status"), cell.get("value"), self.k
        if status == "released":
            return float(value), float(value)
        if status == "rounded":
            v, b = int(value), self.base
            if v == 0:
                return 0.0, 0.0
            return float(max(v - b // 2, k)), float(v + b - 1 - b // 2)
        if status == "perturbed":
            v, D = int(value), self.noise
            if v == 0:
                return 0.0, (0.0 if D < k else float(D))
            return float(max(v - D, k)), float(v + D)
        if status == "suppressed":
            rule = cell.get("rule")
            if rule == "zero":
                return 0.0, 0.0
            if rule == "threshold":
                return (1.0, float(k - 1)) if kind == "persons" else (1.0, INF)
            return None
        return None


def load(directory, catalogue, region_of):
    with open(os.path.join(directory, "manifest.json")) as f:
        manifest = json.load(f)
    docs = []
    for i, entry in enumerate(manifest["documents"]):
        docs.append(Document(i, os.path.join(directory, entry["file"]), entry, catalogue, region_of))
    return manifest, docs


# ----------------------------------------------------------------------------------------------------------------
# The attack.
# ----------------------------------------------------------------------------------------------------------------


class Attacker:
    def __init__(self, docs, catalogue, authorities, findings):
        self.docs, self.catalogue, self.findings = docs, catalogue, findings
        self.authorities = authorities  # list of (la, region)
        self.kb = Knowledge()
        self.k_of_view = {}
        self.rates, self.means, self.differencing = [], [], []
        self.decimals = {}
        for doc in docs:
            for row in doc.json["rows"]:
                for name, cell in row["cells"].items():
                    if cell.get("value") is not None:
                        key = (doc.query, name)
                        self.decimals[key] = max(self.decimals.get(key, 0), decimals_of(cell["value"]))

    # --- facts stated by each cell, labels and missing rows (mechanism 6) ---------------------------------------

    def read(self):
        labels = {}
        missing = 0
        for doc in self.docs:
            k = doc.k
            self.k_of_view[doc.view] = min(self.k_of_view.get(doc.view, k), k)
            present = set()
            for row in doc.json["rows"]:
                dims = row["dimensions"]
                present.add(tuple(sorted((n, v) for n, v in dims.items())))
                cons, window = doc.population(dims)
                cells = row["cells"]
                for name, cell in cells.items():
                    spec = doc.spec["measures"].get(name, {"kind": "unknown"})
                    kind = spec["kind"]
                    if cell.get("status") == "suppressed":
                        rule = cell.get("rule")
                        labels[rule or "(none)"] = labels.get(rule or "(none)", 0) + 1
                    if kind in ("persons", "events"):
                        interval = doc.count_interval(cell, kind)
                        if cell.get("status") == "suppressed" and cell.get("rule") == "differencing":
                            self.differencing.append((doc, kind, cons, window))
                        if interval is not None:
                            how = 6 if cell.get("status") == "suppressed" else 0
                            self.kb.add(kind, doc.view, cons, window, interval[0], interval[1], doc.source, how)
                    elif kind == "rate" and cell.get("value") is not None:
                        self.rates.append((doc, name, spec, cons, window, cell, row))
                    elif kind == "rate" and cell.get("status") == "suppressed" and cell.get("rule") == "zero":
                        # a zero-labelled rate: no numerator persons at all
                        ncons = self.rate_cons(cons, spec, numerator=True)
                        self.kb.add("persons", doc.view, ncons, window, 0, 0, doc.source, 6)
                    elif kind == "mean" and cell.get("value") is not None:
                        self.means.append((doc, name, spec, cons, window, row))
                # persons <= events in one population
            missing += self.missing_rows(doc, present)
        self.findings.note(6, "suppression labels read: %s" % (", ".join("%s %d" % kv for kv in sorted(labels.items())) or "none"))
        self.findings.note(6, "missing rows read as published zeros: %d" % missing)
        # persons <= events
        for (kind, view, cons, window), fact in list(self.kb.facts.items()):
            if kind == "events":
                p = self.kb.get("persons", view, cons, window)
                if p is not None and fact.hi < p.hi:
                    self.kb.add("persons", view, cons, window, 0, fact.hi, None, 0)

    def missing_rows(self, doc, present):
        """Rows a complete table would have; a missing one is a published zero (all counts 0)."""
        patterns = set()
        dimensions = doc.json["dimensions"]
        for key in present:
            patterns.add(tuple(n for n, v in key if v is None))
        params = doc.params
        fixed = {dim: str(params[p]) for p, dim in doc.spec.get("parameters", {}).items() if params.get(p) is not None}
        count_measures = [n for n, s in doc.spec["measures"].items() if s["kind"] in ("persons", "events")]
        added = 0
        for pattern in patterns:
            axes = []
            for dim in dimensions:
                if dim in pattern:
                    axes.append([None])
                elif dim == "quarter":
                    axes.append([quarter_name(q) for q in range(doc.window[0], doc.window[1] + 1)])
                elif dim == "la_code":
                    axes.append([la for la, _ in self.authorities])
                elif dim == "region_code":
                    axes.append(sorted(set(r for _, r in self.authorities)))
                else:
                    values = self.catalogue["dimension_values"].get("%s@%s" % (dim, doc.view)) or self.catalogue["dimension_values"].get(dim)
                    if values is None:
                        axes = None
                        break
                    axes.append(values)
                if dim in fixed:
                    axes[-1] = [v for v in axes[-1] if v is None or v == fixed[dim]]
            if axes is None:
                continue
            for combo in itertools.product(*axes):
                dims = dict(zip(dimensions, combo))
                if dims.get("la_code") and dims.get("region_code") and doc.region_of.get(dims["la_code"]) != dims["region_code"]:
                    continue
                if dims.get("la_code") and "region_code" in fixed and doc.region_of.get(dims["la_code"]) != fixed["region_code"]:
                    continue
                key = tuple(sorted(dims.items()))
                if key in present:
                    continue
                cons, window = doc.population(dims)
                for name in count_measures:
                    self.kb.add(doc.spec["measures"][name]["kind"], doc.view, cons, window, 0, 0, doc.source, 6)
                for name, spec in doc.spec["measures"].items():
                    if spec["kind"] == "rate":
                        self.kb.add("persons", doc.view, self.rate_cons(cons, spec, True), window, 0, 0, doc.source, 6)
                added += 1
        return added

    @staticmethod
    def rate_cons(cons, spec, numerator):
        c = set(cons)
        if spec.get("denominator"):
            c.add((spec["denominator"], "true"))
        if numerator:
            c.add((spec["numerator"], "true"))
        return frozenset(c)

    # --- mechanism 6: what a `differencing` label says ---------------------------------------------------------

    def by_population(self):
        index = {}
        for (kind, view, cons, window), fact in self.kb.facts.items():
            index.setdefault((kind, view, cons), []).append((window, fact))
        return index

    def resolve_differencing(self):
        tightened = 0
        index = self.by_population()
        self.by_population = lambda: index
        for doc, kind, cons, window in self.differencing:
            k = doc.k
            lo, hi = INF, -INF
            for fwin, fact in self.by_population().get((kind, doc.view, cons), []):
                if fwin == window:
                    continue
                if not any(s is not None and s[0] < doc.index and s[1] == doc.query for s in fact.sources):
                    continue
                if fwin[0] >= window[0] and fwin[1] <= window[1]:  # an earlier, nested-in cell: this = that + 1..k-1
                    lo, hi = min(lo, fact.lo + 1), max(hi, fact.hi + k - 1)
                elif fwin[0] <= window[0] and fwin[1] >= window[1]:  # an earlier, containing cell: this = that - (1..k-1)
                    lo, hi = min(lo, fact.lo - (k - 1)), max(hi, fact.hi - 1)
            if lo <= hi and hi < INF:
                if self.kb.add(kind, doc.view, cons, window, max(lo, 0), hi, doc.source, 6):
                    tightened += 1
        del self.by_population
        return tightened

    # --- mechanism 2: co-released measures ------------------------------------------------------------------------

    def undo_rates(self):
        exact = 0
        for doc, name, spec, cons, window, cell, row in self.rates:
            k = doc.k
            dec = self.decimals.get((doc.query, name), 4)
            r = float(cell["value"])
            tol = 0.5 * 10 ** (-dec) + 1e-12
            dcons = self.rate_cons(cons, spec, numerator=False)
            ncons = self.rate_cons(cons, spec, numerator=True)
            dfact = self.kb.get("persons", doc.view, dcons, window)
            dlo = max(1, int(math.ceil(dfact.lo))) if dfact else 1
            dhi = int(math.floor(dfact.hi)) if dfact and dfact.hi < INF else None
            if dhi is None or dhi - dlo > 5000:
                continue
            pairs = []
            for d in range(dlo, dhi + 1):
                n0 = int(round(r * d))
                for n in (n0 - 1, n0, n0 + 1):
                    if 0 <= n <= d and abs(n / d - r) <= tol:
                        pairs.append((n, d))
            if not pairs:
                continue
            ds = sorted(set(d for _, d in pairs))
            ns = sorted(set(n for n, _ in pairs))
            grade_how = 2
            if doc.cell_key:
                # The contract: a rate is the protected numerator over the protected denominator. When the
                # denominator is the row's own published person count, the rate must be consistent with it; then
                # the recovered numerator and denominator are perturbed values (+-D). Anything else is a leak and is
                # taken as exact.
                D = doc.noise
                published = None
                if not spec.get("denominator"):
                    for mname, mspec in doc.spec["measures"].items():
                        pc = row["cells"].get(mname)
                        if mspec["kind"] == "persons" and pc is not None and pc.get("value") is not None:
                            published = int(pc["value"])
                if published is None or published in ds:
                    self.kb.add("persons", doc.view, dcons, window, max(0, ds[0] - D), ds[-1] + D, doc.source, 2)
                    self.kb.add("persons", doc.view, ncons, window, max(0, ns[0] - D), ns[-1] + D, doc.source, 2)
                    continue
            self.kb.add("persons", doc.view, dcons, window, ds[0], ds[-1], doc.source, grade_how)
            self.kb.add("persons", doc.view, ncons, window, ns[0], ns[-1], doc.source, grade_how)
            if len(pairs) == 1:
                exact += 1
                n, d = pairs[0]
                what = "%s %s: %s" % (doc.query, name, describe(doc.view, ncons, window))
                self.findings.small(2, n, n, k, "numerator of " + what)
                self.findings.small(2, d - n, d - n, k, "denominator minus numerator of " + what)
        self.findings.note(2, "rate cells whose numerator and denominator are pinned exactly: %d of %d" % (exact, len(self.rates)))

    def undo_means(self):
        """A mean printed to d decimals beside a count (and a sum) pins its record count n and its exact sum."""
        self.mean_facts = {}  # (view, column, cons, window) -> (n_lo, n_hi, s_lo, s_hi, doc)
        pinned = 0
        for doc, name, spec, cons, window, row in self.means:
            k = doc.k
            column = spec["column"]
            dec = self.decimals.get((doc.query, name), 4)
            m = float(row["cells"][name]["value"])
            integer = column in self.catalogue["views"][doc.view].get("integer_magnitudes", [])
            sum_cell = None
            for mname, mspec in doc.spec["measures"].items():
                if mspec["kind"] == "sum" and mspec.get("column") == column:
                    c = row["cells"].get(mname)
                    if c and c.get("value") is not None:
                        sum_cell = c
            if not integer and sum_cell is None:
                continue
            persons = self.kb.get("persons", doc.view, cons, window)
            events = self.kb.get("events", doc.view, cons, window)
            nlo = max(1, int(math.ceil(persons.lo))) if persons else 1
            nhi = None
            # records of this population are at most the records of any population containing it (e.g. all requests
            # of the LA and quarter, from another vetted query)
            for sub in self.subsets(cons):
                f = self.kb.get("events", doc.view, sub, window)
                if f is not None and f.hi < INF:
                    nhi = int(f.hi) if nhi is None else min(nhi, int(f.hi))
            if nhi is not None:
                pass
            elif persons and persons.hi < INF:
                nhi = int(persons.hi) * 8 + 20
            if nhi is None:
                nhi = 5000
            half = 0.5 * 10 ** (-dec)
            s_tol = 0.0
            s_val = None
            if sum_cell is not None:
                s_val = float(sum_cell["value"])
                if sum_cell["status"] == "released":
                    s_tol = 0.5 * 10 ** (-decimals_of(sum_cell["value"]))
                elif sum_cell["status"] == "rounded":
                    s_tol = self.sum_rounding(doc.query) / 2.0
                else:
                    s_tol = INF  # perturbed sums: the sum pins nothing
            candidates = []
            for n in range(nlo, nhi + 1):
                s = m * n
                tol = half * n + 1e-9
                if integer and abs(s - round(s)) > tol:
                    continue
                if s_val is not None and s_tol < INF and abs(s - s_val) > s_tol + tol:
                    continue
                candidates.append(n)
            if not candidates or (not integer and (s_val is None or s_tol == INF)):
                continue
            n_lo, n_hi = candidates[0], candidates[-1]
            if doc.cell_key:
                # the contract: mean = protected sum / protected count; a recovered count is a perturbed one
                self.kb.add("events", doc.view, cons, window, max(0, n_lo - doc.noise), n_hi + doc.noise, doc.source, 2)
                continue
            self.kb.add("events", doc.view, cons, window, n_lo, n_hi, doc.source, 2)
            if len(candidates) == 1:
                pinned += 1
                n = candidates[0]
                s = m * n
                s_lo, s_hi = (round(s), round(s)) if integer else (s - half * n, s + half * n)
                self.mean_facts[(doc.view, column, cons, window)] = (n, n, s_lo, s_hi, doc)
                if n < k:
                    self.findings.mean(2, "%s %s of %s" % (doc.query, name, describe(doc.view, cons, window)), n, k, "exact")
        self.findings.note(2, "mean cells whose record count and sum are pinned exactly: %d of %d" % (pinned, len(self.means)))

    @staticmethod
    def subsets(cons):
        items = sorted(cons)
        for r in range(len(items), -1, -1):
            for sub in itertools.combinations(items, r):
                yield frozenset(sub)

    def sum_rounding(self, query):
        """The unit a rounded sum is rounded to, as far as the documents show (the largest base all values share)."""
        values = []
        for doc in self.docs:
            if doc.query != query:
                continue
            for row in doc.json["rows"]:
                for name, cell in row["cells"].items():
                    if doc.spec["measures"].get(name, {}).get("kind") == "sum" and cell.get("status") == "rounded":
                        values.append(int(cell["value"]))
        for base in (1000, 100, 50, 10, 5, 2):
            if values and all(v % base == 0 for v in values):
                return base
        return 1

    # --- mechanism 3: complement means ----------------------------------------------------------------------------

    def complement_means(self):
        found = 0
        for doc in self.docs:
            if doc.cell_key:
                continue
            mean_measures = [(n, s) for n, s in doc.spec["measures"].items() if s["kind"] == "mean"]
            if not mean_measures:
                continue
            rows = doc.json["rows"]
            dims = doc.json["dimensions"]
            index = {tuple(r["dimensions"].get(d) for d in dims): r for r in rows}
            for total_key, total_row in index.items():
                for i, dim in enumerate(dims):
                    if total_key[i] is not None:
                        continue
                    if dim == "region_code" and "la_code" in dims and total_key[dims.index("la_code")] is None:
                        pass
                    children = [(key, r) for key, r in index.items()
                                if key[i] is not None and all(key[j] == total_key[j] for j in range(len(dims)) if j != i)
                                and not (dim == "la_code" and "region_code" in dims and total_key[dims.index("region_code")] is None and key[dims.index("region_code")] is None)]
                    if dim == "region_code" and "la_code" in dims and total_key[dims.index("la_code")] is not None:
                        continue
                    if not children:
                        continue
                    for name, spec in mean_measures:
                        column = spec["column"]
                        tcons, twin = doc.population(total_row["dimensions"])
                        total = self.mean_facts.get((doc.view, column, tcons, twin))
                        if total is None:
                            continue
                        n_rest, s_lo, s_hi = total[0], total[2], total[3]
                        unknown = []
                        ok = True
                        for key, r in children:
                            ccons, cwin = doc.population(r["dimensions"])
                            f = self.mean_facts.get((doc.view, column, ccons, cwin))
                            if f is not None:
                                n_rest -= f[0]
                                s_lo -= f[3]
                                s_hi -= f[2]
                            else:
                                unknown.append((ccons, cwin))
                        if not ok or not unknown or n_rest <= 0:
                            continue
                        persons_hi = n_rest
                        partitions = dim in self.catalogue["views"][doc.view]["partitions"]
                        if len(unknown) == 1 or partitions:
                            total_p = 0.0
                            for ucons, uwin in unknown:
                                p = self.kb.get("persons", doc.view, ucons, uwin)
                                total_p += p.hi if p is not None else INF
                            persons_hi = min(persons_hi, total_p)
                        precision = (s_hi - s_lo) / 2.0 / n_rest
                        if persons_hi <= doc.k - 1 and precision <= 0.5:
                            found += 1
                            what = "%s %s over the %d suppressed %s cell(s) under %s (%d records)" % (
                                doc.query, name, len(unknown), dim, describe(doc.view, tcons, twin), n_rest)
                            self.findings.mean(3, what, int(persons_hi), doc.k, "+-%.3g" % precision)
        self.findings.note(3, "complement means determined over fewer than k persons: %d" % found)

    # --- mechanism 1: windows, an LP over activity patterns -------------------------------------------------------

    def windows(self):
        groups = {}
        for (kind, view, cons, window), fact in self.kb.facts.items():
            if kind != "persons":
                continue
            groups.setdefault((view, cons), {})[window] = fact
        solved = lps = attacked = 0
        cache = {}
        for (view, cons), wins in groups.items():
            informative = {w: f for w, f in wins.items() if f.hi < INF}
            if len(informative) < 2 or len(set(w for w in informative if w[0] != w[1])) < 1:
                continue
            k = self.k_of_view.get(view, 10)
            attacked += 1
            first = min(w[0] for w in informative)
            last = max(w[1] for w in informative)
            quarters = list(range(first, last + 1))
            if len(quarters) > 10:
                continue
            patterns = [frozenset(c) for r in range(1, len(quarters) + 1) for c in itertools.combinations(quarters, r)]
            nvar = len(patterns)

            def touches(window):
                return np.array([1.0 if any(window[0] <= q <= window[1] for q in p) else 0.0 for p in patterns])

            rows, lo_b, hi_b = [], [], []
            A_ub, b_ub = [], []
            for w, f in informative.items():
                a = touches(w)
                A_ub.append(a)
                b_ub.append(f.hi)
                if f.lo > 0:
                    A_ub.append(-a)
                    b_ub.append(-f.lo)
            for w, f in wins.items():  # lower bounds of uninformative cells (threshold labels say >= 1)
                if f.hi == INF and f.lo > 0:
                    A_ub.append(-touches(w))
                    b_ub.append(-f.lo)
            signature = (k, tuple(sorted((w, f.lo, f.hi) for w, f in wins.items() if f.hi < INF or f.lo > 0)))
            results = cache.get(signature)
            if results is None:
                results = cache[signature] = self.solve_windows(np.array(A_ub), np.array(b_ub), patterns, informative, k)
                lps += 1
                solved += results.solves
            for label, lo, hi in results:
                self.findings.small(1, lo, hi, k, "%s, %s" % (label, describe(view, cons, (first, last))), "pattern group")
        self.findings.note(1, "window groups (one population over several windows) attacked: %d (%d distinct systems), LPs solved: %d" % (attacked, lps, solved))

    class Results(list):
        solves = 0

    def solve_windows(self, A_ub, b_ub, patterns, informative, k):
        """Bounds of the pattern groups an attacker cares about, given the window facts (A_ub x <= b_ub, x >= 0)."""
        nvar = len(patterns)

        def touches(window):
            return np.array([1.0 if any(window[0] <= q <= window[1] for q in p) else 0.0 for p in patterns])

        # targets: each pattern; for nested windows, the people in the larger and not the smaller; for overlapping
        # windows, the people in both; for every A, B with their union U and intersection I given, A + B - U - I.
        targets = {}
        for i, p in enumerate(patterns):
            c = np.zeros(nvar)
            c[i] = 1
            targets[tuple(c)] = "active in exactly %s" % "+".join(quarter_name(q) for q in sorted(p))
        wl = sorted(informative)
        for w1, w2 in itertools.permutations(wl, 2):
            a1, a2 = touches(w1), touches(w2)
            if w2[0] <= w1[0] and w1[1] <= w2[1]:
                targets.setdefault(tuple(a2 * (1 - a1)), "active in %s but not in %s" % (window_name(w2), window_name(w1)))
            elif w1 < w2 and w1[1] >= w2[0] and w2[1] > w1[1]:
                targets.setdefault(tuple(a1 * a2), "active in both %s and %s" % (window_name(w1), window_name(w2)))
        for wa, wb in itertools.combinations(wl, 2):
            u = (min(wa[0], wb[0]), max(wa[1], wb[1]))
            i_ = (max(wa[0], wb[0]), min(wa[1], wb[1]))
            if u in informative and i_ in informative and i_[0] <= i_[1] and u not in (wa, wb):
                c = touches(wa) + touches(wb) - touches(u) - touches(i_)
                targets.setdefault(tuple(c), "A+B-U-I with A=%s, B=%s" % (window_name(wa), window_name(wb)))
        results = Attacker.Results()
        for c, label in targets.items():
            c = np.array(c)
            if not c.any():
                continue
            hi = self.optimise(-c, A_ub, b_ub, nvar)
            results.solves += 1
            if hi is None:
                break  # contradictory knowledge: give up on this system
            hi = -hi
            if hi < 1 - 1e-6 or hi > k - 1 + 1e-6:
                continue
            lo = self.optimise(c, A_ub, b_ub, nvar)
            results.solves += 1
            if lo is None:
                break
            results.append((label, lo, hi))
        return results

    @staticmethod
    def optimise(c, A_ub, b_ub, nvar):
        res = linprog(c, A_ub=A_ub, b_ub=b_ub, bounds=[(0, None)] * nvar, method="highs")
        if res.status != 0:
            return None
        return res.fun

    # --- mechanisms 4 and 5: nested populations -------------------------------------------------------------------

    def nested(self):
        index = {}
        for (kind, view, cons, window), fact in self.kb.facts.items():
            if kind == "persons" and fact.hi < INF:
                index.setdefault((view, cons), []).append((window, fact))
        pairs = {4: 0, 5: 0, 1: 0}
        for (view, cons), entries in index.items():
            k = self.k_of_view.get(view, 10)
            cons_list = sorted(cons)
            subsets = []
            for r in range(len(cons_list) + 1):
                for sub in itertools.combinations(cons_list, r):
                    subsets.append(frozenset(sub))
            for sub in subsets:
                outer_entries = index.get((view, sub))
                if not outer_entries:
                    continue
                for w1, f1 in entries:
                    for w2, f2 in outer_entries:
                        if sub == cons and w1 == w2:
                            continue
                        if not (w2[0] <= w1[0] and w1[1] <= w2[1]):
                            continue
                        lo, hi = max(0.0, f2.lo - f1.hi), f2.hi - f1.lo
                        s1 = set(s for s in f1.sources if s is not None)
                        s2 = set(s for s in f2.sources if s is not None)
                        q1, q2 = set(s[1] for s in s1), set(s[1] for s in s2)
                        if s1 & s2:
                            mechanism = 5
                        elif q1 and q2 and not (q1 & q2):
                            mechanism = 4
                        else:
                            mechanism = 1
                        what = "%s minus %s" % (describe(view, sub, w2), describe(view, cons, w1))
                        if self.findings.small(mechanism, lo, hi, k, what, "nested difference"):
                            pairs[mechanism] += 1
        self.findings.note(4, "nested pairs across vetted queries determining a small group: %d" % pairs[4])
        self.findings.note(5, "nested pairs within one answer determining a small group: %d" % pairs[5])
        self.findings.note(1, "nested pairs across windows or filters of one query determining a small group: %d" % pairs[1])

    def run(self):
        self.read()
        for _ in range(3):
            self.undo_rates()
            self.undo_means()
            if not self.resolve_differencing():
                break
        for m in (2,):
            # keep only the last pass's notes
            self.findings.notes[m] = self.findings.notes[m][-2:]
        self.complement_means()
        self.windows()
        self.nested()
        # small counts stated by a label or a co-released measure on their own (mechanism 6 when a label did it)
        for (kind, view, cons, window), fact in self.kb.facts.items():
            if kind != "persons":
                continue
            k = self.k_of_view.get(view, 10)
            if 6 in fact.how:
                self.findings.small(6, fact.lo, fact.hi, k, describe(view, cons, window), "labelled cell")
            elif 2 in fact.how:
                self.findings.small(2, fact.lo, fact.hi, k, describe(view, cons, window), "recovered count")
        if self.kb.conflicts:
            self.findings.note(6, "statements that contradicted each other (kept the newer): %d" % self.kb.conflicts)


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory")
    parser.add_argument("--catalogue", default=os.path.join(HERE, "catalogue.json"))
    parser.add_argument("--local-authorities", default=os.path.join(HERE, "..", "..", "Sql", "local_authorities.csv"))
    parser.add_argument("--examples", type=int, default=3, help="examples printed per mechanism")
    args = parser.parse_args(argv)
    try:
        with open(args.catalogue) as f:
            catalogue = json.load(f)
        authorities = []
        with open(args.local_authorities, newline="") as f:
            for r in csv.DictReader(f):
                authorities.append((r["la_code"], r["region_code"]))
        region_of = dict(authorities)
        manifest, docs = load(args.directory, catalogue, region_of)
    except (OSError, ValueError, KeyError) as e:
        sys.stderr.write("attack: cannot read the documents: %s\n" % e)
        return 2
    out = sys.stdout
    methods = sorted(set(d.method for d in docs))
    out.write("attacker: %d documents (%s), methods %s, thresholds %s\n" % (
        len(docs), ", ".join(sorted(set(d.query for d in docs))), ", ".join(methods), ", ".join(str(k) for k in sorted(set(d.k for d in docs)))))
    findings = Findings(args.examples)
    Attacker(docs, catalogue, authorities, findings).run()
    findings.report(out)
    total = findings.total()
    out.write("\n%s: %d determinations of fewer than k persons\n" % ("FAIL" if total else "PASS", total))
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
