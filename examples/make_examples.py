"""Generate the synthetic examples in this folder (random, seeded; no real person): python examples/make_examples.py"""
import csv
import random
from datetime import date, timedelta
from pathlib import Path

out = Path(__file__).resolve().parent
rng = random.Random(2026)
# Leeds postcode districts to the demo clusters: an illustrative lookup, not the council's.
districts = {
    "LS19": "Aireborough", "LS20": "Aireborough", "LS17": "Alwoodley, Roundhay and Moortown",
    "LS8": "Alwoodley, Roundhay and Moortown", "WF3": "Ardsley and Tingley", "LS12": "Armley",
    "LS11": "Beeston and Holbeck", "LS13": "Bramley", "WF10": "Brigshaw", "LS7": "Chapeltown",
    "LS15": "Cross Gates", "LS9": "Gipton and Harehills", "LS25": "Garforth", "LS6": "Headingley",
    "LS18": "Horsforth", "LS10": "Hunslet", "LS5": "Kirkstall", "LS27": "Morley", "LS21": "Otley",
    "LS28": "Pudsey", "LS26": "Rothwell", "LS14": "Seacroft Manston", "LS22": "Wetherby", "LS16": "Farnley",
}
sectors = {"LS10 4": "Middleton", "LS15 8": "Temple Newsam", "LS12 5": "Wortley"}
with (out / "postcodes.csv").open("w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["postcode", "cluster"])
    for k, v in {**districts, **sectors}.items():
        w.writerow([k, v])
    w.writerow(["BD", "outside"])
    w.writerow(["WF", "outside"])   # districts listed above (WF3, WF10) win over the area
homes = [f"{d} {rng.randrange(1, 9)}Z{c}" for d in list(districts) + ["LS10 4", "LS15 8"] for c in "QX"]
homes = [h if len(h.split()) == 2 else h for h in homes]
def home():
    r = rng.random()
    if r < 0.05: return ""
    if r < 0.09: return f"BD{rng.randrange(1, 20)} {rng.randrange(1, 9)}ZZ"
    if r < 0.11: return f"HX{rng.randrange(1, 7)} {rng.randrange(1, 9)}ZZ"      # not in the lookup
    d = rng.choice(list(districts) + ["LS10 4", "LS15 8", "LS12 5"])
    return (f"{d}Z{rng.choice('QX')}" if " " in d else f"{d} {rng.randrange(1, 9)}Z{rng.choice('QX')}")
rows = []
statuses = ["C2"] * 8 + ["C1", "E1", "J2", "L1", "V3", "V4"]
start = date(2024, 4, 1)
for c in range(1, 901):
    day = date(2025, 11, 20) - timedelta(days=rng.randrange(0, 1300))
    h = home()
    for k in range(rng.randrange(1, 4)):
        if day > date(2025, 11, 28): break
        ls = rng.choice(statuses)
        length = rng.randrange(3, 420)
        end = day + timedelta(days=length)
        open_ = end > date(2025, 11, 28) or rng.random() < 0.25
        if rng.random() < 0.25: h = home()
        dec = "" if open_ else f"{end:%d/%m/%Y}"
        rec = "" if open_ else rng.choice(["E11", "E12", "E13", "E4A", "E41", "X1"])
        rows.append([f"EX{c:04d}", f"{day:%d/%m/%Y}", "S" if k == 0 else "P", ls, rng.choice(["N1", "N2", "N4"]),
                     rng.choice(["U1", "U4", "R1", "K2"]), rng.choice(["PR1", "PR2", "PR4"]), dec, rec,
                     "" if k == 0 else "CHL", h, "", "", "E08000035", "2025"])
        if open_: break
        day = end + timedelta(days=rng.choice([0, 0, 0, 7, 40]))
# a few made-up edge cases the README mentions: an overlap (rule 142) and a DEC without REC (rule 148)
rows.append(["EX0901", "01/09/2025", "S", "C2", "N1", "U1", "PR1", "", "", "", "LS14 6ZQ", "", "", "E08000035", "2025"])
rows.append(["EX0901", "15/09/2025", "L", "C2", "N1", "U4", "PR1", "", "", "CHL", "LS9 7ZX", "", "", "E08000035", "2025"])
rows.append(["EX0902", "03/03/2025", "S", "C1", "N2", "U1", "PR1", "28/10/2025", "", "", "LS6 2ZQ", "", "", "E08000035", "2025"])
rows.sort(key=lambda r: (r[0], r[1][6:] + r[1][3:5] + r[1][:2]))
with (out / "episodes.csv").open("w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["CHILD", "DECOM", "RNE", "LS", "CIN", "PLACE", "PLACE_PROVIDER", "DEC", "REC", "REASON_PLACE_CHANGE",
                "HOME_POST", "PL_POST", "URN", "LA", "YEAR"])
    w.writerows(rows)
codes = [110] * 12 + [120] * 6 + [130] * 8 + [210] * 3 + [220, 230, 320, 540, 610, 619, 619, 630, 640, 680, 710, 810, 820, 830]
with (out / "cohort.csv").open("w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["young_person_id", "academic_age", "activity_code", "postcode", "snapshot_date"])
    for i in range(1, 2501):
        w.writerow([f"YP{i:05d}", rng.choice([16, 16, 17, 17, 18]), rng.choice(codes), home(), "2025-11-28"])
urns = {990000 + k: rng.choice(list(districts.values())) for k in range(1, 41)}
phases = {u: ("primary" if k < 30 else "secondary") for k, u in enumerate(urns)}
with (out / "schools.csv").open("w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["urn", "cluster"])
    for u, c in list(urns.items())[:-2]:      # the last two schools are in no cluster (reported)
        w.writerow([u, c])
with (out / "sessions.csv").open("w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["week_commencing", "urn", "phase", "possible_sessions", "absence_sessions"])
    for wk in (date(2025, 11, 17), date(2025, 11, 24)):
        for u, ph in phases.items():
            pupils = rng.randrange(150, 420) if ph == "primary" else rng.randrange(600, 1400)
            possible = pupils * 10
            rate = rng.uniform(0.03, 0.07) if ph == "primary" else rng.uniform(0.06, 0.11)
            w.writerow([f"{wk:%Y-%m-%d}", u, ph.title() if rng.random() < 0.3 else ph, possible, round(possible * rate)])
