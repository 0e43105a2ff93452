"""A deterministic synthetic corpus in the format of ``data/``, for scale tests and benchmarks.

The same ``(cases, editions, seed)`` always gives the same bytes. The records look like the
curated ones: Chinese unit names built from real Hubei prefecture/county names (GB/T 2260
codes) and real kinds of offices, with aliases (the name without the prefecture, a short
company name) and parent organisations (a county office under the same office of its
prefecture, a branch under its company); 1-3 applicants per case, drawn so that a few units
apply again and again and most apply once (a Yule-Simon process: long-tailed); 1-3 domains
per case; several editions across the three tracks; four award categories per edition.

>>> summary = generate("synth-doc", cases=50, editions=2, seed=1)
>>> summary.cases, summary.editions
(50, 2)
"""

from __future__ import annotations

import csv
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from chuzhi_graph.core.vocabulary import load_vocabulary
from chuzhi_graph.errors import OutputError, UsageError
from chuzhi_graph.records.tables import TABLES

#: prefecture-level code -> (name, [(county code, county name), ...]); GB/T 2260, Hubei.
HUBEI: dict[str, tuple[str, list[tuple[str, str]]]] = {
    "420100": ("武汉市", [("420102", "江岸区"), ("420103", "江汉区"), ("420104", "硚口区"),
                         ("420105", "汉阳区"), ("420106", "武昌区"), ("420107", "青山区"),
                         ("420111", "洪山区"), ("420112", "东西湖区"), ("420113", "汉南区"),
                         ("420114", "蔡甸区"), ("420115", "江夏区"), ("420116", "黄陂区"),
                         ("420117", "新洲区")]),
    "420200": ("黄石市", [("420202", "黄石港区"), ("420203", "西塞山区"), ("420204", "下陆区"),
                         ("420205", "铁山区"), ("420222", "阳新县"), ("420281", "大冶市")]),
    "420300": ("十堰市", [("420302", "茅箭区"), ("420303", "张湾区"), ("420304", "郧阳区"),
                         ("420322", "郧西县"), ("420323", "竹山县"), ("420324", "竹溪县"),
                         ("420325", "房县"), ("420381", "丹江口市")]),
    "420500": ("宜昌市", [("420502", "西陵区"), ("420503", "伍家岗区"), ("420504", "点军区"),
                         ("420505", "猇亭区"), ("420506", "夷陵区"), ("420525", "远安县"),
                         ("420526", "兴山县"), ("420527", "秭归县"), ("420528", "长阳土家族自治县"),
                         ("420529", "五峰土家族自治县"), ("420581", "宜都市"), ("420582", "当阳市"),
                         ("420583", "枝江市")]),
    "420600": ("襄阳市", [("420602", "襄城区"), ("420606", "樊城区"), ("420607", "襄州区"),
                         ("420624", "南漳县"), ("420625", "谷城县"), ("420626", "保康县"),
                         ("420682", "老河口市"), ("420683", "枣阳市"), ("420684", "宜城市")]),
    "420700": ("鄂州市", [("420702", "梁子湖区"), ("420703", "华容区"), ("420704", "鄂城区")]),
    "420800": ("荆门市", [("420802", "东宝区"), ("420804", "掇刀区"), ("420822", "沙洋县"),
                         ("420881", "钟祥市"), ("420882", "京山市")]),
    "420900": ("孝感市", [("420902", "孝南区"), ("420921", "孝昌县"), ("420922", "大悟县"),
                         ("420923", "云梦县"), ("420981", "应城市"), ("420982", "安陆市"),
                         ("420984", "汉川市")]),
    "421000": ("荆州市", [("421002", "沙市区"), ("421003", "荆州区"), ("421022", "公安县"),
                         ("421024", "江陵县"), ("421081", "石首市"), ("421083", "洪湖市"),
                         ("421087", "松滋市"), ("421088", "监利市")]),
    "421100": ("黄冈市", [("421102", "黄州区"), ("421121", "团风县"), ("421122", "红安县"),
                         ("421123", "罗田县"), ("421124", "英山县"), ("421125", "浠水县"),
                         ("421126", "蕲春县"), ("421127", "黄梅县"), ("421181", "麻城市"),
                         ("421182", "武穴市")]),
    "421200": ("咸宁市", [("421202", "咸安区"), ("421221", "嘉鱼县"), ("421222", "通城县"),
                         ("421223", "崇阳县"), ("421224", "通山县"), ("421281", "赤壁市")]),
    "421300": ("随州市", [("421303", "曾都区"), ("421321", "随县"), ("421381", "广水市")]),
    "422800": ("恩施土家族苗族自治州", [("422801", "恩施市"), ("422802", "利川市"),
                                       ("422822", "建始县"), ("422823", "巴东县"),
                                       ("422825", "宣恩县"), ("422826", "咸丰县"),
                                       ("422827", "来凤县"), ("422828", "鹤峰县")]),
}
#: county-level cities administered by the province directly (parent: the province)
PROVINCE_DIRECT = [("429004", "仙桃市"), ("429005", "潜江市"), ("429006", "天门市"), ("429021", "神农架林区")]

#: (office, unit type, id stem): offices that exist at province, prefecture and county level
OFFICES = [
    ("委政法委", "党政机关", "zhengfawei"), ("委组织部", "党政机关", "zuzhibu"),
    ("委网信办", "党政机关", "wangxinban"), ("政务服务和大数据管理局", "党政机关", "zwfw"),
    ("公安局", "党政机关", "gonganju"), ("司法局", "党政机关", "sifaju"),
    ("审计局", "党政机关", "shenjiju"), ("税务局", "党政机关", "shuiwuju"),
    ("民政局", "党政机关", "minzhengju"), ("应急管理局", "党政机关", "yingjiju"),
    ("市场监督管理局", "党政机关", "shijianju"), ("人力资源和社会保障局", "党政机关", "renshe"),
    ("自然资源和规划局", "党政机关", "ziranziyuan"), ("城市管理执法局", "党政机关", "chengguan"),
    ("农业农村局", "党政机关", "nongyeju"), ("教育局", "党政机关", "jiaoyuju"),
    ("卫生健康委员会", "党政机关", "weijianwei"), ("交通运输局", "党政机关", "jiaotongju"),
    ("纪委监委", "党政机关", "jiwei"), ("大数据中心", "事业单位", "bigdata-centre"),
    ("政务服务中心", "事业单位", "zwfw-centre"), ("融媒体中心", "新闻媒体", "rongmeiti"),
    ("气象局", "事业单位", "qixiangju"), ("疾病预防控制中心", "事业单位", "cdc"),
]
#: national companies with provincial branches: (name, short name, id stem, unit type)
COMPANIES = [
    ("中国电信股份有限公司", "电信", "china-telecom", "国有企业"),
    ("中国移动通信集团湖北有限公司", "湖北移动", "china-mobile", "国有企业"),
    ("中国联合网络通信有限公司", "联通", "china-unicom", "国有企业"),
    ("国网湖北省电力有限公司", "国网湖北电力", "state-grid-hubei", "国有企业"),
    ("中国石化销售股份有限公司湖北石油分公司", "湖北石化", "sinopec-hubei", "国有企业"),
]
SYLLABLES = list("华楚荆云天长江汉星光明智数联创信安达通宏远博元泰鼎恒新卓越睿思诚德")
INDUSTRIES = [("数智科技", "技术"), ("信息技术", "信息"), ("软件", "软件"), ("大数据科技", "数据"),
              ("网络科技", "网络"), ("智能科技", "智能"), ("物联网科技", "物联")]
UNIVERSITIES = [("华中科技大学", "hust", "420111"), ("武汉大学", "whu", "420106"),
                ("华中师范大学", "ccnu", "420111"), ("武汉理工大学", "whut", "420111"),
                ("中南财经政法大学", "zuel", "420111"), ("三峡大学", "ctgu", "420502"),
                ("湖北大学", "hubu", "420106")]
SCHOOLS = ["公共管理学院", "计算机学院", "社会学院", "信息管理学院", "政治与国际关系学院",
           "网络空间安全学院", "经济学院", "法学院"]
TRACKS = ["bigdata", "social-governance", "poverty-alleviation"]
TOPICS = ["一网通办", "城市大脑", "数字乡村", "基层治理", "平安社区", "智慧养老", "网格化管理",
          "数据共享", "智慧应急", "电子证照", "信用监管", "智慧交通", "社会救助", "河湖长制",
          "智慧党建", "营商环境", "数字孪生", "接诉即办", "智慧课堂", "精准帮扶"]
VERBS = ["打造", "探索", "构建", "推进", "创新", "建设", "深化", "赋能"]
ENDINGS = ["助力治理现代化", "提升群众获得感", "的实践", "新模式", "平台", "的创新探索",
           "让数据多跑路", "体系", "应用场景", "工程"]


@dataclass
class SynthSummary:
    """What :func:`generate` wrote."""

    out_dir: Path
    cases: int
    editions: int
    units: int
    applicant_units: int
    files: dict[str, Path]


class _UnitPool:
    """Units created on demand, with globally unique names and alias keys."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.rows: list[dict[str, str]] = []
        self.names: set[str] = set()
        self.ids: set[str] = set()
        self.by_key: dict[str, str] = {}  # (prefecture code, office stem) -> unit id
        self.index: dict[str, int] = {}  # unit id -> row number

    def add(self, uid: str, name: str, utype: str, region: str, *, parent: str = "",
            aliases: tuple[str, ...] = (), basis: str = "name") -> str | None:
        if name in self.names or uid in self.ids:
            return None
        kept = [a for a in aliases if a not in self.names]
        self.names.add(name)
        self.names.update(kept)
        self.ids.add(uid)
        self.index[uid] = len(self.rows)
        self.rows.append({
            "id": uid, "name_zh": name, "type": utype, "type_basis": basis, "region": region,
            "region_basis": "name", "parent": parent, "aliases": "|".join(kept),
            "source": "synth", "source_line": "1",
        })
        return uid

    def office(self, code: str, prefix: str, short: str, pref_code: str) -> str | None:
        office, utype, stem = self.rng.choice(OFFICES)
        parent = self.by_key.get(f"{pref_code}/{stem}", "") if pref_code != code else ""
        uid = self.add(f"{code}-{stem}", prefix + office, utype, code, parent=parent,
                       aliases=(short + office,) if short != prefix else ())
        if uid and pref_code == code:
            self.by_key[f"{code}/{stem}"] = uid
        return uid

    def company(self, code: str, place: str, n: int) -> str | None:
        rng = self.rng
        if rng.random() < 0.3:
            name, short, stem, utype = rng.choice(COMPANIES)
            parent = self.by_key.get(stem) or self.add(stem, name, utype, "420000", basis="curator") or ""
            self.by_key[stem] = parent
            uid = f"{stem}-{code}"
            return self.add(uid, f"{name}{place}分公司", utype, code, parent=parent,
                            aliases=(f"{short}{place}分公司",), basis="curator")
        brand = "".join(rng.sample(SYLLABLES, 2))
        industry, short = rng.choice(INDUSTRIES)
        name = f"{place}{brand}{industry}有限公司"
        return self.add(f"firm-{code}-{n}", name, rng.choice(["民营企业", "企业"]), code,
                        aliases=(f"{brand}{short}",), basis="curator")

    def team(self, n: int) -> str | None:
        uni, stem, code = self.rng.choice(UNIVERSITIES)
        parent = self.by_key.get(stem) or self.add(stem, uni, "高等院校及科研团队", code) or ""
        self.by_key[stem] = parent
        school = self.rng.choice(SCHOOLS)
        topic = self.rng.choice(TOPICS)
        return self.add(f"{stem}-team-{n}", f"{uni}{school}{topic}研究团队", "高等院校及科研团队", code,
                        parent=parent)


def _places() -> list[tuple[str, str, str, str]]:
    """(code, full name prefix, short prefix, prefecture code) of every region with units."""
    out = [("420000", "湖北省", "省", "420000")]
    for pcode, (pname, counties) in HUBEI.items():
        out.append((pcode, pname, pname, pcode))
        out += [(code, pname + name, name, pcode) for code, name in counties]
    out += [(code, name, name, code) for code, name in PROVINCE_DIRECT]
    return out


def _region_rows() -> list[dict[str, str]]:
    rows = [{"code": "420000", "name_zh": "湖北省", "name_en": "Hubei", "level": "province", "parent": ""}]
    for pcode, (pname, counties) in HUBEI.items():
        rows.append({"code": pcode, "name_zh": pname, "level": "prefecture", "parent": "420000"})
        rows += [{"code": c, "name_zh": n, "level": "county", "parent": pcode} for c, n in counties]
    rows += [{"code": c, "name_zh": n, "level": "county", "parent": "420000"} for c, n in PROVINCE_DIRECT]
    return rows


def generate(out_dir: str | Path, *, cases: int = 1000, editions: int = 5, seed: int = 0) -> SynthSummary:  # noqa: PLR0915 (one seeded sequence: split, the order of the random draws and so the bytes would change)
    """Write a synthetic data folder of ``cases`` cases over ``editions`` editions.

    >>> generate("synth-doc", cases=20, editions=1, seed=3).cases
    20
    """
    if cases < 1 or editions < 1:
        raise UsageError("need at least one case and one edition", field="--cases/--editions")
    if editions > 3 * 30:
        raise UsageError("at most 90 editions (3 tracks x 30 years)", field="--editions")
    out = _writable_folder(Path(out_dir))
    rng = random.Random(seed)
    vocab = load_vocabulary()
    domain_labels = [c.pref_zh for c in vocab.domains.values()]
    places = _places()
    place_names = {code: short if code != pref else prefix for code, prefix, short, pref in places}
    place_names["420000"] = "湖北"
    pool = _UnitPool(rng)
    # fixed organisers of every edition
    pool.add("hust", "华中科技大学", "高等院校及科研团队", "420111", aliases=("华中科大",))
    pool.by_key["hust"] = "hust"
    organiser = pool.add("hust-isg", "华中科技大学国家治理研究院", "高等院校及科研团队", "420111", parent="hust")
    media = pool.add("jingchu-net", "荆楚网(湖北日报网)", "新闻媒体", "420000", aliases=("荆楚网",))

    edition_rows, category_rows = [], []
    edition_ids = []
    for i in range(editions):
        track, year = TRACKS[i % 3], 2019 + i // 3
        eid = f"{track}-{year}"
        edition_ids.append(eid)
        edition_rows.append({
            "id": eid, "track": track, "year": str(year), "title_zh": f"楚治——{year}{vocab.tracks[track].pref_zh}",
            "announced": f"{year}-09-20", "meeting_place": "420100", "organisers": f"{organiser}|{media}",
            "source": "synth", "source_line": "1",
        })
        for pos, (cid, label) in enumerate((("gov", "十佳案例(政务服务组)"), ("ent", "十佳案例(企业及高校组)"),
                                            ("excellent", "优秀案例"), ("reference", "参考案例")), start=1):
            category_rows.append({"id": cid, "edition": eid, "position": str(pos), "label_zh": label,
                                  "source_line": "1"})

    case_rows = []
    used: set[str] = set()
    slots: list[str] = []  # every applicant slot so far: drawing from it is preferential attachment
    positions: dict[tuple[str, str], int] = {}
    titles: set[tuple[str, str]] = set()
    n_new = 0
    for n in range(cases):
        eid = edition_ids[n * editions // cases]
        k = rng.choices((1, 2, 3), weights=(6, 3, 1))[0]
        applicants: list[str] = []
        while len(applicants) < k:
            uid: str | None
            if slots and rng.random() < 0.45:
                uid = rng.choice(slots)
            else:
                n_new += 1
                code, prefix, short, pref = rng.choice(places)
                kind = rng.random()
                if kind < 0.6:
                    uid = pool.office(code, prefix, short, pref)
                elif kind < 0.9:
                    uid = pool.company(code, short if code != pref else prefix, n_new)
                else:
                    uid = pool.team(n_new)
            if uid and uid not in applicants and uid not in (organiser, media):
                applicants.append(uid)
        slots += applicants
        used.update(applicants)
        category = rng.choices(("gov", "ent", "excellent", "reference"), weights=(4, 3, 2, 1))[0]
        pos = positions.get((eid, category), 0) + 1
        positions[(eid, category)] = pos
        place = place_names.get(pool.rows[pool.index[applicants[0]]]["region"], "湖北")
        title = f"{place}{rng.choice(VERBS)}“{rng.choice(TOPICS)}”{rng.choice(ENDINGS)}"
        if (eid, title) in titles:
            title = f"{title}(第{n}号)"
        titles.add((eid, title))
        names = [_applicant_name(pool, a, rng) for a in applicants]
        case_rows.append({
            "id": f"{eid}-{n + 1:06d}", "edition": eid, "category": category, "position": str(pos),
            "title_zh": title, "applicants": "|".join(names),
            "domains": "|".join(rng.sample(domain_labels, rng.choices((1, 2, 3), weights=(5, 3, 2))[0])),
            "domain_basis": "curator", "source": "synth", "source_line": str(n + 1),
        })

    sources = [{"id": "synth", "file": "sources/synth.txt", "title": "合成案例数据(测试用)",
                "publisher": "chuzhi-graph synth", "issued": "2024-01-01"}]
    files = {}
    try:
        doc = out / "sources" / "synth.txt"
        doc.write_text(f"synthetic corpus: cases={cases} editions={editions} seed={seed}\n", encoding="utf-8")
        for name, rows in (("sources", sources), ("regions", _region_rows()), ("units", pool.rows),
                           ("editions", edition_rows), ("categories", category_rows), ("cases", case_rows)):
            files[name] = _write_table(out, name, rows)
    except OSError as exc:
        raise OutputError(f"cannot write the corpus: {exc.strerror or exc}", file=exc.filename or out) from None
    return SynthSummary(out, cases, editions, len(pool.rows), len(used), files)


def _writable_folder(out: Path) -> Path:
    """``out`` and ``out/sources`` made, before the corpus is drawn; :class:`OutputError` if they cannot be."""
    try:
        (out / "sources").mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot make the folder: {exc.strerror or exc}", file=exc.filename or out) from None
    if not os.access(out / "sources", os.W_OK):
        raise OutputError("cannot write into the folder (read-only)", file=out / "sources")
    return out


def _applicant_name(pool: _UnitPool, uid: str, rng: random.Random) -> str:
    """How the case table names a unit: mostly its name, sometimes an alias, rarely its id."""
    row = pool.rows[pool.index[uid]]
    r = rng.random()
    if r < 0.1 and row["aliases"]:
        return row["aliases"].split("|")[0]
    if r < 0.15:
        return uid
    return row["name_zh"]


def _write_table(out: Path, name: str, rows: list[dict[str, str]]) -> Path:
    required, optional = TABLES[name]
    path = out / f"{name}.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*required, *optional], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def clear(out_dir: str | Path) -> None:
    """Remove a synthetic data folder written by :func:`generate`."""
    shutil.rmtree(out_dir, ignore_errors=True)
