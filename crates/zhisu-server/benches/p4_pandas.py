#!/usr/bin/env python3
"""P4 baseline: the literacy report of `analysis::literacy`, computed with pandas.

Usage: p4_pandas.py INTERVIEWS.csv [REPEATS [DIMENSION_IDS]]   (DIMENSION_IDS: comma-separated, in order)

The CSV is what `benches/p4_report.rs` writes: one row per stored interview with the columns the
report reads (the interview's facts and its site's stratum and weight, already joined, as an export
would have them) and `qc_status`. Loading the CSV is timed apart and not counted. The aggregation
is timed REPEATS times (default 3) and the best is reported. It does what the Rust report does:

- rejected interviews are left out;
- domains: overall, each dimension (outcome: its bit of `dimension_literacy`), and the breakdowns
  by population, industry, district, sex, age band (16-24, 25-34, 35-44, 45-59) and education
  (outcome: `has_literacy`); a row without a key (or an age outside 16-59) is not in that
  breakdown;
- per domain the unweighted n, successes, proportion and Wilson 95 % interval, and the
  design-based estimate of docs/statistics.md: the ratio estimator sum(w y)/sum(w), Taylor
  linearisation, with-replacement (ultimate cluster) variance over strata and clusters
  (cluster = district + site), using the full design (n_h counts every cluster of the stratum in
  the sample, also those without domain members), lonely PSU "adjust" (a singleton stratum
  contributes z^2), df = clusters - strata holding domain members (at least 1), Student t
  (Hill 1970, as zhisu-stats computes it), interval clipped to [0, 1], design effect.

Prints one JSON object on stdout (progress goes to stderr).
"""

import json
import math
import sys
import time

import numpy as np
import pandas as pd

Z95 = 1.959963984540054
AGE_BINS = [15, 24, 34, 44, 59]  # (15,24] (24,34] (34,44] (44,59] on whole years = 16-24 ...
AGE_BANDS = ["16-24", "25-34", "35-44", "45-59"]
BREAKDOWNS = ["population", "industry", "district", "sex", "age_band", "education"]


def t_quantile_975(df):
    """t_{0.975, df}: the same closed forms and Hill (1970) approximation as zhisu-stats."""
    alpha = 0.05
    if df <= 1:
        return 1.0 / math.tan(alpha * math.pi / 2.0)
    if df == 2:
        return math.sqrt(2.0 / (alpha * (2.0 - alpha)) - 2.0)
    if df >= 1_000_000:
        return Z95
    n = float(df)
    a = 1.0 / (n - 0.5)
    b = 48.0 / (a * a)
    c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36
    d = ((94.5 / (b + c) - 3.0) / b + 1.0) * math.sqrt(a * math.pi / 2.0) * n
    y = (d * alpha) ** (2.0 / n)
    if y > 0.05 + a:
        x = -Z95
        y = x * x
        if n < 5.0:
            c += 0.3 * (n - 4.5) * (x + 0.6)
        c += (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b
        y = (((((0.4 * y + 6.3) * y + 36.0) * y + 94.5) / c - y - 3.0) / b + 1.0) * x
        y = math.expm1(a * y * y)
    else:
        y = (
            (1.0 / (((n + 6.0) / (n * y) - 0.089 * d - 0.822) * (n + 2.0) * 3.0) + 0.5 / (n + 4.0))
            * y
            - 1.0
        ) * (n + 1.0) / (n + 2.0) + 1.0 / y
    return math.sqrt(n * y)


def wilson(x, n):
    """Wilson 95 % interval, vectorised over arrays of successes and sizes (n > 0)."""
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.float64)
    p = x / n
    z2 = Z95 * Z95
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denom
    half = Z95 / denom * np.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    low = np.where(x == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    high = np.where(x == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return low, high


def load(path):
    dtypes = {
        "district": "category",
        "site_id": "category",
        "stratum": "category",
        "weight": "float64",
        "population": "category",
        "industry": "category",
        "sex": "category",
        "education": "category",
        "age": "float64",  # NaN when missing
        "has_literacy": "int8",
        "dimension_literacy": "int64",
        "qc_status": "category",
    }
    # the weights must parse to exactly the doubles the databases hold: pandas 3's default
    # parser is exact (and the option deprecated); before, "round_trip" asks for it
    extra = {} if int(pd.__version__.split(".")[0]) >= 3 else {"float_precision": "round_trip"}
    return pd.read_csv(path, dtype=dtypes, **extra)


def domain_estimates(key, stratum, cluster, n_h, w, y):
    """Both estimates for every value of `key` (a categorical/integer Series; NaN = not in any
    domain). `stratum`, `cluster`: integer codes; `n_h`: clusters of the sample per stratum code
    (numpy array); `w`: weights; `y`: 0/1 outcome. Returns a DataFrame indexed by key."""
    frame = pd.DataFrame(
        {"key": key, "h": stratum, "c": cluster, "w": w, "wy": w * y, "y": y}
    )
    # per (domain, stratum, cluster): the domain members' totals
    g = frame.groupby(["key", "h", "c"], observed=True, sort=False).agg(
        w=("w", "sum"), wy=("wy", "sum"), x=("y", "sum"), n=("y", "size")
    )
    keys = g.index.get_level_values(0)
    per_key = g.groupby(level=0, observed=True, sort=False).agg(
        W=("w", "sum"), T=("wy", "sum"), x=("x", "sum"), n=("n", "sum"), clusters=("n", "size")
    )
    p = (per_key["T"] / per_key["W"]).clip(0.0, 1.0)
    W_of = per_key["W"].reindex(keys).to_numpy()
    p_of = p.reindex(keys).to_numpy()
    z = (g["wy"].to_numpy() - p_of * g["w"].to_numpy()) / W_of
    hs = g.index.get_level_values(1).to_numpy()
    zf = pd.DataFrame({"key": keys, "h": hs, "z": z})
    # per (domain, stratum): n_h counts every cluster of the stratum in the sample
    nh = n_h[hs].astype(np.float64)
    zf["nh"] = nh
    sums = zf.groupby(["key", "h"], observed=True, sort=False)["z"].transform("sum").to_numpy()
    mean = sums / nh
    zf["dev2"] = (z - mean) ** 2
    zf["mean2"] = mean * mean
    zf["single"] = z * z
    s = zf.groupby(["key", "h"], observed=True, sort=False).agg(
        dev2=("dev2", "sum"), m=("z", "size"), mean2=("mean2", "first"),
        single=("single", "sum"), nh=("nh", "first")
    )
    ss = s["dev2"] + (s["nh"] - s["m"]) * s["mean2"]
    contribution = np.where(s["nh"] == 1.0, s["single"], s["nh"] / (s["nh"] - 1.0) * ss)
    contribution = pd.Series(contribution, index=s.index)
    variance = contribution.groupby(level=0, observed=True, sort=False).sum()
    strata = s.groupby(level=0, observed=True, sort=False).size()
    out = per_key.copy()
    out["p"] = p
    out["var"] = variance.reindex(out.index)
    out["strata"] = strata.reindex(out.index)
    out["df"] = np.maximum(out["clusters"] - out["strata"], 1)
    out["t"] = [t_quantile_975(int(d)) for d in out["df"]]
    out["se"] = np.sqrt(np.maximum(out["var"], 0.0))
    out["low"] = np.maximum(out["p"] - out["t"] * out["se"], 0.0)
    out["high"] = np.minimum(out["p"] + out["t"] * out["se"], 1.0)
    pq = out["p"] * (1.0 - out["p"])
    out["deff"] = np.where((out["p"] > 0) & (out["p"] < 1), out["var"] / (pq / out["n"]), np.nan)
    out["wlow"], out["whigh"] = wilson(out["x"].to_numpy(), out["n"].to_numpy())
    return out


def report(df, dimension_ids):
    """The whole report: a list of domain estimates (and whether every interview is weighted)."""
    d = df[df["qc_status"] != "rejected"]
    weighted = bool(d["stratum"].notna().all() and d["weight"].notna().all())
    if not weighted:
        raise SystemExit("p4_pandas: every interview of the bench has a site with stratum and weight")
    # clusters: (district, site) pairs, nested in strata; the sample's design
    cluster = d.groupby(["district", "site_id"], observed=True, sort=False).ngroup().to_numpy()
    stratum = d["stratum"].cat.codes.to_numpy().astype(np.int64)
    pairs = pd.DataFrame({"h": stratum, "c": cluster}).drop_duplicates()
    n_h = np.bincount(pairs["h"].to_numpy(), minlength=len(d["stratum"].cat.categories))
    w = d["weight"].to_numpy()
    lit = d["has_literacy"].to_numpy().astype(np.float64)
    dims = d["dimension_literacy"].to_numpy()
    everyone = np.zeros(len(d), dtype=np.int8)
    rows = []

    def emit(by, est, labels=None):
        for k, r in est.iterrows():
            rows.append(
                {
                    "by": by,
                    "key": labels[k] if labels is not None else str(k),
                    "n": int(r["n"]),
                    "successes": int(r["x"]),
                    "proportion_unweighted": float(r["x"] / r["n"]),
                    "wilson": [float(r["wlow"]), float(r["whigh"])],
                    "design": {
                        "proportion": float(r["p"]),
                        "low": float(r["low"]),
                        "high": float(r["high"]),
                        "se": float(r["se"]),
                        "df": int(r["df"]),
                        "deff": None if math.isnan(r["deff"]) else float(r["deff"]),
                        "weight_sum": float(r["W"]),
                    },
                }
            )

    emit("overall", domain_estimates(everyone, stratum, cluster, n_h, w, lit), labels={0: ""})
    for i, name in enumerate(dimension_ids):
        y = ((dims >> i) & 1).astype(np.float64)
        emit("dimension", domain_estimates(everyone, stratum, cluster, n_h, w, y), labels={0: name})
    for by in BREAKDOWNS:
        if by == "age_band":
            key = pd.cut(d["age"], bins=AGE_BINS, labels=AGE_BANDS)
        else:
            key = d[by]
        emit(by, domain_estimates(key, stratum, cluster, n_h, w, lit))
    return rows


def main():
    path = sys.argv[1]
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    # the questionnaire's dimensions, in order (bit i of dimension_literacy)
    dimension_ids = sys.argv[3].split(",") if len(sys.argv) > 3 else ["law", "knowledge", "skills", "behaviour"]
    t = time.perf_counter()
    df = load(path)
    load_s = time.perf_counter() - t
    print(f"p4_pandas: loaded {len(df):,} rows in {load_s:.2f} s", file=sys.stderr)
    timings = []
    rows = None
    for i in range(repeats):
        t = time.perf_counter()
        rows = report(df, dimension_ids)
        timings.append(time.perf_counter() - t)
        print(f"p4_pandas: aggregation run {i + 1}: {timings[-1]:.3f} s", file=sys.stderr)
    overall = next(r for r in rows if r["by"] == "overall")
    json.dump(
        {
            "python": sys.version.split()[0],
            "pandas": pd.__version__,
            "numpy": np.__version__,
            "rows_loaded": int(len(df)),
            "rows_analysed": overall["n"],
            "load_s": load_s,
            "aggregation_s": timings,
            "best_s": min(timings),
            "overall": overall,
            "estimates": rows,
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
