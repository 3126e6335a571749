"""Deterministic labelled set for near-duplicate / story grouping (no network, seeded).

What it builds, from sentence templates and a news vocabulary:

- **Wire stories** republished by 2–6 fictional outlets. Each copy edits the wire text the way
  outlets do: a rewritten headline, synonyms swapped, a sentence dropped or added, paragraphs cut
  differently, the agency credit "(و.م.ع)" / "(أ ف ب)" moved, added or removed, the outlet's own
  header and footer lines, "اقرأ أيضا" links to other stories, spelling habits (hamza, final ى,
  Arabic-Indic digits, tatweel, harakat), and a few excerpt-only copies. All copies of a story
  share its `story` label; copies from one outlet never occur (that is the repost case).
- **Same-outlet duplicates**: reposts under a new id and AMP twins (text without the links), with
  `dup_of` pointing at the first copy.
- **Original stories**, each published by a single outlet (background for precision).
- **Hard negatives**, each labelled in `hard_negatives` with its kind:
  `footer`  different short stories that carry the same long agency disclaimer;
  `headline` same short headline as the first line, different body;
  `topic`   same-topic different stories: two match reports of one round, two sessions of one
            chamber, two weather bulletins, two court rulings.

`generate(seed)` returns a `Dataset`; `sample(dataset, n_pairs, seed)` a smaller consistent subset
(whole stories) used by the tests. `python -m bench.dedup_data` prints the set's figures.
"""

from __future__ import annotations

import argparse
import itertools
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

# --------------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------------

CITIES = [
    "الرباط", "الدار البيضاء", "فاس", "مراكش", "طنجة", "أكادير", "وجدة", "مكناس", "تطوان", "العيون",
    "الداخلة", "بني ملال", "آسفي", "القنيطرة", "الجديدة", "الناظور", "تازة", "ورزازات", "خريبكة",
    "سطات", "الحسيمة", "الصويرة", "إفران", "كلميم", "الراشيدية", "برشيد", "تارودانت", "شفشاون",
]
FOREIGN_CITIES = [
    "القاهرة", "تونس", "الجزائر", "عمان", "بيروت", "الدوحة", "الرياض", "باريس", "مدريد", "بروكسل",
    "جنيف", "نواكشوط", "داكار", "أبوظبي", "لندن", "روما", "برلين", "نيويورك", "أديس أبابا", "لشبونة",
]
COUNTRIES = [
    "إسبانيا", "فرنسا", "موريتانيا", "مصر", "السعودية", "الإمارات", "قطر", "الأردن", "السنغال",
    "نيجيريا", "البرتغال", "ألمانيا", "الصين", "اليابان", "الولايات المتحدة", "إيطاليا", "بلجيكا",
    "كوت ديفوار", "الغابون", "البرازيل", "تركيا", "كوريا الجنوبية", "الهند", "بريطانيا",
]
FIRST = [
    "محمد", "أحمد", "يوسف", "عبد الله", "سعيد", "خالد", "رشيد", "عبد الرحيم", "كريم", "نبيل", "هشام",
    "مصطفى", "إدريس", "فاطمة", "خديجة", "نادية", "سلمى", "مريم", "ليلى", "أمينة", "حسن", "عمر",
    "إبراهيم", "عزيز", "نور الدين", "عبد اللطيف", "سميرة", "جمال", "أنس", "حمزة", "زكرياء", "ياسين",
]
LAST = [
    "العلوي", "بنعلي", "الإدريسي", "التازي", "الفاسي", "بنكيران", "الحسني", "المنصوري", "الزياني",
    "الشرقاوي", "بوعزة", "العمراني", "الودغيري", "الكتاني", "بنسعيد", "الرحماني", "الوزاني", "السوسي",
    "البقالي", "الخياطي", "المرابط", "أوزين", "الطاهري", "بلحاج", "الصقلي", "الناصري", "اليوسفي",
]
TEAMS = [
    "الوداد الرياضي", "الرجاء الرياضي", "الجيش الملكي", "نهضة بركان", "المغرب الفاسي", "حسنية أكادير",
    "اتحاد طنجة", "الفتح الرباطي", "أولمبيك آسفي", "شباب المحمدية", "اتحاد تواركة", "المغرب التطواني",
    "الدفاع الحسني الجديدي", "النادي المكناسي", "شباب السوالم", "الكوكب المراكشي", "يوسفية برشيد",
    "رجاء بني ملال",
]
STADIUMS = [
    "المركب الرياضي محمد الخامس", "ملعب مولاي عبد الله", "الملعب الكبير لطنجة", "ملعب أدرار",
    "الملعب البلدي ببركان", "ملعب الفتح", "المركب الرياضي لفاس", "ملعب سانية الرمل", "الملعب الكبير لمراكش",
    "ملعب المسيرة", "الملعب البلدي بالقنيطرة",
]
COMPETITIONS = ["البطولة الاحترافية", "كأس العرش", "دوري أبطال إفريقيا", "كأس الكونفدرالية الإفريقية"]
MINISTRIES = [
    ("وزارة الصحة والحماية الاجتماعية", "وزير الصحة والحماية الاجتماعية"),
    ("وزارة التربية الوطنية والتعليم الأولي والرياضة", "وزير التربية الوطنية"),
    ("وزارة الاقتصاد والمالية", "وزيرة الاقتصاد والمالية"),
    ("وزارة الداخلية", "وزير الداخلية"),
    ("وزارة الفلاحة والصيد البحري", "وزير الفلاحة والصيد البحري"),
    ("وزارة التجهيز والماء", "وزير التجهيز والماء"),
    ("وزارة السياحة والصناعة التقليدية", "وزيرة السياحة"),
    ("وزارة العدل", "وزير العدل"),
    ("وزارة الشؤون الخارجية والتعاون الإفريقي", "وزير الشؤون الخارجية"),
    ("وزارة الصناعة والتجارة", "وزير الصناعة والتجارة"),
    ("وزارة الانتقال الطاقي والتنمية المستدامة", "وزيرة الانتقال الطاقي"),
    ("وزارة التعليم العالي والبحث العلمي", "وزير التعليم العالي"),
    ("وزارة الشباب والثقافة والتواصل", "وزير الشباب والثقافة والتواصل"),
    ("وزارة الإدماج الاقتصادي والتشغيل", "وزير التشغيل"),
]
PARTIES = [
    "حزب التجمع الوطني للأحرار", "حزب الأصالة والمعاصرة", "حزب الاستقلال", "حزب الاتحاد الاشتراكي",
    "حزب العدالة والتنمية", "حزب الحركة الشعبية", "حزب التقدم والاشتراكية", "حزب الاتحاد الدستوري",
]
BILLS = [
    "يتعلق بالماء", "يتعلق بالمسطرة الجنائية", "يتعلق بالحماية الاجتماعية", "بتنظيم مهنة المحاماة",
    "يتعلق بالطاقات المتجددة", "يتعلق بالصحافة والنشر", "يتعلق بالعقوبات البديلة", "يتعلق بالتعليم العالي",
    "بتغيير مدونة الشغل", "يتعلق بالجبايات المحلية", "يتعلق بالتعمير", "يتعلق بحماية المستهلك",
    "يتعلق بالتأمين الإجباري عن المرض", "يتعلق بالسجل الاجتماعي الموحد", "يتعلق بالمنافسة والأسعار",
    "يتعلق بالصيد البحري", "يتعلق بمكافحة غسل الأموال", "يتعلق بالوظيفة العمومية",
]
PRODUCTS = ["الطماطم", "البطاطس", "اللحوم الحمراء", "الدواجن", "زيت الزيتون", "الغازوال", "البنزين",
            "السكر", "الدقيق", "البصل", "الأسماك", "الحليب"]
SECTORS = ["صادرات الفوسفاط ومشتقاته", "صادرات قطاع السيارات", "عائدات السياحة", "تحويلات مغاربة العالم",
           "الاستثمارات الأجنبية المباشرة", "صادرات الصناعة الغذائية", "صادرات قطاع الطيران",
           "واردات الطاقة", "صادرات النسيج والجلد"]
INSTITUTIONS = ["بنك المغرب", "المندوبية السامية للتخطيط", "مكتب الصرف", "المجلس الاقتصادي والاجتماعي والبيئي",
                "المجلس الأعلى للحسابات", "الهيئة الوطنية للنزاهة", "مجلس المنافسة"]
REGIONS = ["جهة الرباط سلا القنيطرة", "جهة الدار البيضاء سطات", "جهة فاس مكناس", "جهة مراكش آسفي",
           "جهة طنجة تطوان الحسيمة", "جهة سوس ماسة", "جهة الشرق", "جهة بني ملال خنيفرة", "جهة درعة تافيلالت",
           "جهة كلميم واد نون", "جهة العيون الساقية الحمراء", "جهة الداخلة وادي الذهب"]
PROVINCES = ["أزيلال", "خنيفرة", "إفران", "الحوز", "تنغير", "ميدلت", "بولمان", "صفرو", "تاونات", "شفشاون",
             "الحسيمة", "تازة", "جرادة", "فكيك", "ورزازات", "زاكورة", "تارودانت", "شيشاوة"]
COURTS = ["غرفة الجنايات الابتدائية بمحكمة الاستئناف", "المحكمة الابتدائية الزجرية", "غرفة الجنايات الاستئنافية",
          "المحكمة الإدارية", "محكمة الاستئناف"]
CHARGES = ["تبديد أموال عمومية", "الاتجار الدولي في المخدرات", "النصب والاحتيال", "الارتشاء",
           "تزوير محررات رسمية", "الاتجار في البشر", "القتل العمد", "السرقة الموصوفة", "تكوين عصابة إجرامية",
           "الاختلاس واستغلال النفوذ"]
FESTIVALS = ["المهرجان الدولي للفيلم", "مهرجان موازين", "المعرض الدولي للنشر والكتاب", "مهرجان كناوة وموسيقى العالم",
             "مهرجان الموسيقى الروحية", "المهرجان الوطني للفيلم", "مهرجان تيميتار", "مهرجان الشعر المغربي",
             "مهرجان المسرح الجامعي", "ملتقى الفنون التشكيلية"]
AGENCIES = [
    # (short credit as printed, full name)
    ("و.م.ع", "وكالة المغرب العربي للأنباء"),
    ("أ ف ب", "وكالة فرانس برس"),
    ("رويترز", "وكالة رويترز"),
    ("د ب أ", "وكالة الأنباء الألمانية"),
    ("قنا", "وكالة الأنباء القطرية"),
]
DAYS = ["الإثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"]

# Synonym families swapped by outlets when they rewrite wire copy (all forms are real usage).
SYNONYMS: dict[str, list[str]] = {
    "قال": ["أكد", "أوضح", "أفاد", "صرح"],
    "أكد": ["قال", "شدد", "أوضح"],
    "أوضح": ["أكد", "بين", "قال"],
    "أعلنت": ["كشفت", "أفادت", "ذكرت"],
    "كشفت": ["أعلنت", "أفادت"],
    "أفاد": ["ذكر", "أورد", "قال"],
    "اليوم": ["هذا اليوم"],
    "أمس": ["يوم أمس"],
    "خلال": ["أثناء", "في"],
    "بحسب": ["حسب", "وفق", "وفقا لما ذكره"],
    "حسب": ["بحسب", "وفق"],
    "مسؤولين": ["مسؤولون كبار", "فاعلين"],
    "المواطنين": ["الساكنة", "المغاربة"],
    "الحكومة": ["الجهاز التنفيذي", "السلطة التنفيذية"],
    "ارتفاع": ["زيادة", "صعود"],
    "انخفاض": ["تراجع", "هبوط"],
    "مهم": ["هام", "بارز"],
    "كبير": ["واسع", "ضخم"],
    "مشروع": ["ورش"],
    "لقاء": ["اجتماع"],
    "اجتماع": ["لقاء"],
    "بلاغ": ["بيان"],
    "بيان": ["بلاغ"],
    "الماضي": ["المنصرم", "الفارط"],
    "المقبل": ["القادم"],
    "عدد": ["جملة"],
    "إطار": ["سياق"],
}

# --------------------------------------------------------------------------------------------
# Story templates: per topic, a headline list, ordered sentence roles (each a list of
# alternatives), and a background pool (sentences outlets add, e.g. "يذكر أن ...").
# Slots in {braces} are filled from the story's entities; {n1}..{n9} are per-story numbers.
# --------------------------------------------------------------------------------------------


@dataclass
class Topic:
    name: str
    entities: Callable[[random.Random], dict[str, str]]
    titles: list[str]
    roles: list[list[str]]
    background: list[str]
    short_titles: list[str] = field(default_factory=list)


def _person(r: random.Random) -> str:
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def _nums(r: random.Random, d: dict[str, str]) -> dict[str, str]:
    d.update({f"n{i}": str(r.randint(2, 95)) for i in range(1, 10)})
    d["big"] = str(r.randint(120, 9800))
    d["pct"] = f"{r.randint(1, 19)},{r.randint(1, 9)}"
    d["year"] = str(r.choice([2023, 2024, 2025, 2026, 2027, 2030]))
    d["day"] = r.choice(DAYS)
    return d


def _football(r: random.Random) -> dict[str, str]:
    t1, t2 = r.sample(TEAMS, 2)
    g1, g2 = r.randint(0, 4), r.randint(0, 3)
    return _nums(r, {
        "team1": t1, "team2": t2, "g1": str(g1), "g2": str(g2), "stadium": r.choice(STADIUMS),
        "comp": r.choice(COMPETITIONS), "round": str(r.randint(1, 30)), "scorer1": _person(r),
        "scorer2": _person(r), "coach1": _person(r), "coach2": _person(r), "city": r.choice(CITIES),
        "min1": str(r.randint(3, 44)), "min2": str(r.randint(46, 90)), "ref": _person(r),
    })


def _parliament(r: random.Random) -> dict[str, str]:
    ministry, minister_title = r.choice(MINISTRIES)
    return _nums(r, {
        "chamber": r.choice(["مجلس النواب", "مجلس المستشارين"]), "bill": r.choice(BILLS),
        "bill_no": f"{r.randint(10, 99)}.{r.randint(19, 25)}", "ministry": ministry, "minister_title": minister_title,
        "minister": _person(r), "party1": r.choice(PARTIES), "party2": r.choice(PARTIES), "mp": _person(r),
        "city": "الرباط", "for": str(r.randint(60, 190)), "against": str(r.randint(5, 70)), "abst": str(r.randint(0, 20)),
    })


def _economy(r: random.Random) -> dict[str, str]:
    return _nums(r, {
        "inst": r.choice(INSTITUTIONS), "sector": r.choice(SECTORS), "product": r.choice(PRODUCTS),
        "product2": r.choice(PRODUCTS), "city": r.choice(CITIES), "official": _person(r),
        "quarter": r.choice(["الفصل الأول", "الفصل الثاني", "الفصل الثالث", "الفصل الرابع"]),
        "month": r.choice(["يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو", "يوليوز", "غشت", "شتنبر", "أكتوبر", "نونبر", "دجنبر"]),
        "country": r.choice(COUNTRIES),
    })


def _weather(r: random.Random) -> dict[str, str]:
    provs = r.sample(PROVINCES, 6)
    return _nums(r, {f"p{i}": p for i, p in enumerate(provs, 1)} | {
        "level": r.choice(["البرتقالي", "الأصفر", "الأحمر"]),
        "kind": r.choice(["تساقطات مطرية قوية", "تساقطات ثلجية", "موجة حر", "هبات رياح قوية", "زخات رعدية"]),
        "from_h": str(r.randint(6, 18)), "to_h": str(r.randint(6, 23)), "city": "الرباط",
        "tmin": str(r.randint(-6, 12)), "tmax": str(r.randint(18, 47)), "region": r.choice(REGIONS),
    })


def _justice(r: random.Random) -> dict[str, str]:
    return _nums(r, {
        "court": r.choice(COURTS), "city": r.choice(CITIES), "charge": r.choice(CHARGES),
        "charge2": r.choice(CHARGES), "defendant": _person(r), "lawyer": _person(r), "years": str(r.randint(1, 20)),
        "fine": str(r.randint(5, 500) * 1000), "role": r.choice(["رئيس جماعة", "موظف بنكي", "مقاول", "مسؤول سابق بوكالة عمومية",
                                                                "منتخب جماعي", "موثق", "رجل أعمال"]),
    })


def _diplomacy(r: random.Random) -> dict[str, str]:
    c1 = r.choice(COUNTRIES)
    return _nums(r, {
        "country": c1, "fcity": r.choice(FOREIGN_CITIES), "minister": _person(r), "guest": _person(r),
        "city": "الرباط", "field1": r.choice(["الطاقة", "الفلاحة", "النقل", "التعليم", "الصحة", "الأمن", "الثقافة", "الهجرة"]),
        "field2": r.choice(["الاستثمار", "السياحة", "الصناعة", "الماء", "الرقمنة", "التكوين المهني"]),
    })


def _culture(r: random.Random) -> dict[str, str]:
    return _nums(r, {
        "fest": r.choice(FESTIVALS), "city": r.choice(CITIES), "edition": str(r.randint(3, 30)),
        "guest_country": r.choice(COUNTRIES), "director": _person(r), "artist": _person(r), "artist2": _person(r),
    })


def _accident(r: random.Random) -> dict[str, str]:
    c1, c2 = r.sample(CITIES, 2)
    return _nums(r, {
        "city": c1, "city2": c2, "road": f"الطريق الوطنية رقم {r.randint(1, 17)}",
        "dead": str(r.randint(1, 14)), "hurt": str(r.randint(2, 40)),
        "vehicle": r.choice(["حافلة لنقل المسافرين", "شاحنة لنقل البضائع", "سيارة أجرة كبيرة", "سيارة خفيفة", "حافلة للنقل المدرسي"]),
        "vehicle2": r.choice(["شاحنة", "سيارة نفعية", "دراجة نارية", "سيارة خفيفة"]),
    })


TOPICS: list[Topic] = [
    Topic(
        "football", _football,
        titles=["{team1} يتغلب على {team2} بنتيجة {g1}-{g2}", "{team1} و{team2} في مواجهة مثيرة ضمن {comp}",
                "الجولة {round}: {team1} يحسم قمته أمام {team2}", "نتيجة مباراة {team1} و{team2} في {comp}"],
        short_titles=["نتيجة مباراة قمة", "البطولة الاحترافية"],
        roles=[
            ["{city} - حقق فريق {team1} نتيجة {g1} مقابل {g2} أمام ضيفه {team2}، في المباراة التي جمعت بينهما مساء يوم {day} على أرضية {stadium}، برسم الجولة {round} من {comp}.",
             "{city} - انتهت مباراة {team1} و{team2}، التي احتضنها {stadium} يوم {day} لحساب الجولة {round} من {comp}، بنتيجة {g1} مقابل {g2}.",
             "{city} - أسدل الستار مساء {day} على مواجهة {team1} و{team2} ضمن منافسات الجولة {round} من {comp} بتسجيل {g1} مقابل {g2}."],
            ["وافتتح {scorer1} باب التسجيل في الدقيقة {min1} بعد تمريرة حاسمة من وسط الميدان، قبل أن يعدل {scorer2} النتيجة في الدقيقة {min2}.",
             "وسجل {scorer1} الهدف الأول عند الدقيقة {min1} إثر ضربة رأسية، فيما أضاف {scorer2} هدفا في الدقيقة {min2} من ضربة جزاء.",
             "وتمكن اللاعب {scorer1} من هز الشباك في الدقيقة {min1}، ورد عليه {scorer2} في الدقيقة {min2} بتسديدة قوية من خارج منطقة العمليات."],
            ["وقاد المباراة الحكم {ref} الذي أشهر {n1} بطاقات صفراء في وجه لاعبي الفريقين.",
             "وأدار اللقاء الحكم الدولي {ref}، وشهدت الجولة الثانية احتجاجات على قرار تحكيمي في الدقيقة {n7}.",
             "وعرفت المباراة حضور ما يناهز {big} مشجع، وسط إجراءات أمنية مشددة في محيط الملعب."],
            ["وبهذه النتيجة رفع {team1} رصيده إلى {n2} نقطة في المركز {n3}، بينما تجمد رصيد {team2} عند {n4} نقطة.",
             "وبفضل هذا الانتصار صعد {team1} إلى الرتبة {n3} برصيد {n2} نقطة، في حين تراجع {team2} إلى المركز {n5}.",
             "وأصبح {team1} يتوفر على {n2} نقطة، متقدما بفارق {n6} نقاط عن أقرب ملاحقيه."],
            ["وقال مدرب {team1} {coach1}، في الندوة الصحفية التي أعقبت المباراة، إن لاعبيه قدموا أداء جيدا رغم صعوبة الظروف.",
             "وصرح {coach2} مدرب {team2} بأن فريقه لم يستغل الفرص التي أتيحت له، مؤكدا أن الموسم ما يزال طويلا.",
             "وأوضح {coach1} أن الفريق سيعمل على تصحيح الأخطاء قبل المباراة المقبلة، مشيدا بدعم الجماهير."],
            ["ويستعد {team1} لمواجهة صعبة خارج ميدانه في الجولة المقبلة، فيما يستقبل {team2} منافسه على أرضه.",
             "ويلتقي {team1} في الجولة المقبلة بأحد فرق أسفل الترتيب، بينما يحل {team2} ضيفا على متصدر البطولة.",
             "وتتواصل منافسات الجولة {round} يوم غد بإجراء {n8} مباريات أخرى."],
        ],
        background=["يذكر أن {team1} كان قد فاز بلقب {comp} في موسم سابق، ويطمح هذا الموسم إلى استعادة اللقب.",
                    "وكان {team2} قد انهزم في مباراته السابقة بحصة ثقيلة، مما زاد من الضغط على طاقمه التقني.",
                    "وتعرف البطولة هذا الموسم تنافسا كبيرا على المراكز الأولى بين عدد من الأندية.",
                    "ويغيب عن صفوف {team1} عدد من اللاعبين بسبب الإصابة، من بينهم عناصر أساسية في خط الدفاع."],
    ),
    Topic(
        "parliament", _parliament,
        titles=["{chamber} يصادق على مشروع قانون {bill}", "مشروع القانون رقم {bill_no} أمام {chamber}",
                "{minister_title} يقدم مشروع قانون {bill} أمام {chamber}", "جلسة تشريعية بـ{chamber} لمناقشة مشروع قانون {bill}"],
        short_titles=["جلسة عامة بالبرلمان", "البرلمان"],
        roles=[
            ["{city} - صادق {chamber}، خلال جلسة تشريعية عقدها يوم {day}، على مشروع القانون رقم {bill_no} {bill}.",
             "{city} - عقد {chamber} يوم {day} جلسة عامة خصصت للدراسة والتصويت على مشروع القانون رقم {bill_no} {bill}.",
             "{city} - وافق أعضاء {chamber} في جلسة عامة يوم {day} على مشروع القانون رقم {bill_no} {bill}، بعد نقاش مطول."],
            ["وحظي النص بموافقة {for} نائبا، فيما عارضه {against} نائبا وامتنع {abst} عن التصويت.",
             "وصوت لفائدة المشروع {for} عضوا، مقابل معارضة {against} عضوا وامتناع {abst} آخرين.",
             "وأسفر التصويت عن تأييد {for} نائبا ومعارضة {against}، في حين امتنع {abst} عن التصويت."],
            ["وقال {minister_title} {minister}، في كلمة تقديمية، إن هذا النص يندرج في إطار الإصلاحات التي تباشرها الحكومة.",
             "وأكد {minister} أن المشروع يهدف إلى ملاءمة الإطار القانوني مع التحولات التي يعرفها القطاع.",
             "وأوضح {minister_title} أن الوزارة اعتمدت مقاربة تشاركية في إعداد هذا النص، بتنسيق مع مختلف المتدخلين."],
            ["وانتقد فريق {party1} مضامين المشروع، معتبرا أنه لا يستجيب لانتظارات المواطنين.",
             "وطالب النائب {mp} عن {party1} بإدخال تعديلات جوهرية على المادة {n1} من المشروع.",
             "ودعا فريق {party2} إلى تسريع إخراج النصوص التطبيقية لضمان التنزيل الفعلي للقانون."],
            ["وكانت لجنة العدل والتشريع قد صادقت على المشروع بعد إدخال {n2} تعديلا عليه.",
             "وسبق للجنة المختصة أن خصصت {n3} اجتماعات لدراسة النص ومناقشة التعديلات المقترحة.",
             "وقد قدمت فرق المعارضة ما مجموعه {n4} تعديلا، قبلت الحكومة {n5} منها."],
            ["وسيحال النص على الغرفة الثانية للبرلمان في إطار القراءة الثانية.",
             "وينتظر أن يدخل القانون حيز التنفيذ بعد نشره في الجريدة الرسمية.",
             "ومن المرتقب أن يعقد المجلس جلسة أخرى الأسبوع المقبل لاستكمال جدول أعماله التشريعي."],
        ],
        background=["يذكر أن {chamber} كان قد صادق خلال الدورة الماضية على {n6} نصا تشريعيا.",
                    "ويأتي هذا النص في سياق ورش إصلاح المنظومة القانونية الذي انطلق منذ سنوات.",
                    "وتتزامن هذه الجلسة مع نقاش عمومي واسع حول حصيلة العمل التشريعي.",
                    "وكان {party2} قد عبر في بلاغ سابق عن تحفظه على عدد من مواد المشروع."],
    ),
    Topic(
        "economy", _economy,
        titles=["{inst}: {sector} تسجل ارتفاعا بنسبة {pct} في المائة", "ارتفاع أسعار {product} يثير قلق المستهلكين",
                "{inst} يكشف تطور {sector} خلال {quarter}", "تراجع أسعار {product} في أسواق {city}"],
        short_titles=["الأسعار", "الاقتصاد الوطني"],
        roles=[
            ["{city} - أعلنت {inst} أن {sector} بلغت {big} مليون درهم خلال {quarter} من السنة الجارية، بارتفاع نسبته {pct} في المائة.",
             "{city} - كشفت معطيات صادرة عن {inst} أن {sector} عرفت ارتفاعا بنسبة {pct} في المائة خلال {quarter}.",
             "{city} - أفادت {inst} بأن {sector} سجلت نموا بنسبة {pct} في المائة متم شهر {month}."],
            ["وعرفت أسعار {product} ارتفاعا ملحوظا خلال الأسابيع الأخيرة، إذ تجاوز ثمن الكيلوغرام {n1} درهما في عدد من الأسواق.",
             "وسجلت أسعار {product} انخفاضا بنسبة {n2} في المائة مقارنة بالشهر الماضي، بحسب المصدر ذاته.",
             "وأرجعت المؤسسة هذا التطور إلى ارتفاع الطلب الخارجي، خاصة من {country}."],
            ["وقال {official}، المسؤول بالمؤسسة، إن هذه الأرقام تعكس دينامية إيجابية للاقتصاد الوطني.",
             "وأوضح {official} أن التضخم استقر في حدود {n3} في المائة، مع توقعات بتراجعه خلال الأشهر المقبلة.",
             "وأكد الخبير الاقتصادي {official} أن تقلب أسعار {product2} في السوق الدولية يؤثر مباشرة على القدرة الشرائية."],
            ["وبلغ عجز الميزان التجاري {big} مليون درهم، مقابل {n4} مليار درهم خلال الفترة نفسها من السنة الماضية.",
             "وارتفعت الموجودات الخارجية إلى ما يعادل {n5} شهرا من واردات السلع والخدمات.",
             "وتظهر المعطيات أن نسبة تغطية الواردات بالصادرات انتقلت إلى {n6} في المائة."],
            ["وتتوقع {inst} أن يبلغ معدل النمو {pct} في المائة خلال سنة {year}.",
             "ودعت {inst} إلى مواصلة الإصلاحات الهيكلية لتعزيز تنافسية النسيج الإنتاجي.",
             "ويرتقب أن تنشر المؤسسة تقريرها المفصل خلال الأسابيع المقبلة."],
        ],
        background=["يذكر أن أسعار {product} كانت قد عرفت تقلبات كبيرة خلال السنة الماضية بسبب الجفاف.",
                    "ويعاني المستهلك المغربي منذ أشهر من ارتفاع تكاليف المعيشة.",
                    "وكان بنك المغرب قد أبقى على سعر الفائدة الرئيسي دون تغيير في اجتماعه الأخير.",
                    "وتراهن الحكومة على {sector} لتحقيق أهداف النموذج التنموي الجديد."],
    ),
    Topic(
        "weather", _weather,
        titles=["نشرة إنذارية: {kind} بعدد من أقاليم المملكة", "مستوى يقظة {level}: {kind} مرتقبة ابتداء من يوم {day}",
                "المديرية العامة للأرصاد الجوية تحذر من {kind}", "طقس {day}: {kind} وانخفاض في درجات الحرارة"],
        short_titles=["نشرة إنذارية", "حالة الطقس"],
        roles=[
            ["{city} - أفادت المديرية العامة للأرصاد الجوية بأن {kind} من مستوى يقظة {level} ستهم عددا من أقاليم المملكة من الساعة {from_h} إلى الساعة {to_h} من يوم {day}.",
             "{city} - حذرت المديرية العامة للأرصاد الجوية، في نشرة إنذارية، من {kind} مرتقبة يوم {day} بعدد من مناطق المملكة.",
             "{city} - أعلنت المديرية العامة للأرصاد الجوية عن {kind} من مستوى يقظة {level} ابتداء من يوم {day}."],
            ["وأوضحت النشرة أن الأمر يتعلق بأقاليم {p1} و{p2} و{p3} و{p4}.",
             "وستهم هذه الظاهرة على الخصوص أقاليم {p1} و{p2} و{p3}، إضافة إلى {p5}.",
             "وحسب المصدر ذاته فإن أقاليم {p2} و{p4} و{p6} ستكون الأكثر تأثرا."],
            ["ويرتقب أن تتراوح المقاييس بين {n1} و{n2} ملم، فيما ستصل درجات الحرارة الدنيا إلى {tmin} درجات.",
             "وستتراوح درجات الحرارة القصوى ما بين {n3} و{tmax} درجة، مع هبوب رياح قوية أحيانا.",
             "ويتوقع أن يبلغ سمك الثلوج ما بين {n4} و{n5} سنتمترات في المرتفعات التي يفوق علوها {big} متر."],
            ["ودعت السلطات المواطنين إلى توخي الحذر، خاصة مستعملي الطرق في المناطق الجبلية.",
             "وعبأت السلطات المحلية في {region} الوسائل اللوجستية اللازمة لفك العزلة عن الدواوير المتضررة.",
             "وأكدت المديرية أنها ستواصل تتبع تطور الحالة الجوية وإصدار نشرات محينة."],
        ],
        background=["يذكر أن المملكة تعرف منذ أيام تقلبات جوية بعد فترة طويلة من الجفاف.",
                    "وكانت تساقطات الأسبوع الماضي قد أدت إلى قطع عدد من المحاور الطرقية.",
                    "وتساهم هذه التساقطات في تحسين حقينة السدود التي بلغت نسبة ملئها {n6} في المائة."],
    ),
    Topic(
        "justice", _justice,
        titles=["{court} بـ{city} تدين {role} بـ{years} سنوات سجنا", "الحكم على متهم في ملف {charge} بـ{city}",
                "{years} سنوات حبسا نافذا في حق {role} متابع بـ{charge}", "تأجيل النظر في ملف {charge} بـ{city}"],
        short_titles=["حكم قضائي", "المحكمة تقول كلمتها"],
        roles=[
            ["{city} - قضت {court} بـ{city}، يوم {day}، بإدانة {role} بـ{years} سنوات سجنا نافذا، بعد متابعته بتهمة {charge}.",
             "{city} - أصدرت {court} بـ{city} حكما بـ{years} سنوات حبسا نافذا في حق {role} توبع من أجل {charge}.",
             "{city} - أدانت {court} بـ{city} متهما يعمل {role} بـ{years} سنوات سجنا، في ملف يتعلق بـ{charge}."],
            ["كما قضت المحكمة بأداء غرامة مالية قدرها {fine} درهم، وتعويض لفائدة الطرف المدني.",
             "وألزمت الهيئة المتهم بإرجاع مبلغ {fine} درهم إلى خزينة الدولة.",
             "وقررت المحكمة مصادرة الممتلكات المحجوزة لفائدة الدولة، مع أداء غرامة قدرها {fine} درهم."],
            ["وكانت الفرقة الوطنية للشرطة القضائية قد فتحت بحثا في الموضوع إثر شكاية تقدم بها {n1} متضررا.",
             "وتعود تفاصيل القضية إلى سنة {year}، حين رصدت تقارير رقابية اختلالات في تدبير الصفقات.",
             "وجاء اعتقال المتهم بعد تحريات دامت {n2} أشهر، قادت إلى حجز وثائق ومبالغ مالية."],
            ["وقال دفاع المتهم، المحامي {lawyer}، إنه سيستأنف الحكم لأن الملف خال من أي دليل مادي.",
             "وأكد المحامي {lawyer} أن موكله ينفي جميع التهم المنسوبة إليه.",
             "واعتبر {lawyer}، محامي الطرف المدني، أن الحكم أنصف الضحايا."],
        ],
        background=["يذكر أن النيابة العامة كانت قد التمست أقصى العقوبات في حق المتهم.",
                    "وتعرف المحاكم المغربية عددا متزايدا من الملفات المرتبطة بـ{charge2}.",
                    "وكان الملف قد أثار اهتماما واسعا لدى الرأي العام المحلي."],
    ),
    Topic(
        "diplomacy", _diplomacy,
        titles=["المغرب و{country} يوقعان اتفاقيات للتعاون في مجال {field1}", "مباحثات مغربية مع {country} بـ{city}",
                "وزير خارجية {country} في زيارة رسمية إلى المغرب", "{country} تجدد دعمها لمخطط الحكم الذاتي"],
        short_titles=["مباحثات دبلوماسية", "العلاقات الثنائية"],
        roles=[
            ["{city} - أجرى وزير الشؤون الخارجية {minister}، يوم {day}، مباحثات مع نظيره من {country} {guest}، الذي يقوم بزيارة رسمية إلى المملكة.",
             "{city} - استقبل وزير الشؤون الخارجية والتعاون الإفريقي {minister} يوم {day} وزير خارجية {country} {guest}.",
             "{city} - تباحث {minister} مع رئيس دبلوماسية {country} {guest} حول سبل تعزيز العلاقات الثنائية."],
            ["وتناولت المباحثات سبل تطوير التعاون في مجالات {field1} و{field2}.",
             "وتم خلال اللقاء التوقيع على {n1} اتفاقيات تهم {field1} و{field2}.",
             "وبحث الجانبان آفاق الشراكة الاقتصادية، خاصة في قطاعي {field1} و{field2}."],
            ["وأكد {guest} أن بلاده تعتبر المغرب شريكا استراتيجيا في المنطقة.",
             "وجدد الوزير الضيف موقف {country} الداعم لمخطط الحكم الذاتي باعتباره حلا جادا وذا مصداقية.",
             "وقال {minister} إن العلاقات بين البلدين تعرف دينامية غير مسبوقة."],
            ["ويرتقب أن تنعقد اللجنة المشتركة بين البلدين في {fcity} قبل نهاية السنة.",
             "واتفق الطرفان على عقد منتدى للأعمال بمشاركة {big} مقاولة من البلدين.",
             "وبلغ حجم المبادلات التجارية بين البلدين {n2} مليار درهم خلال السنة الماضية."],
        ],
        background=["يذكر أن المغرب و{country} تربطهما علاقات دبلوماسية منذ عقود.",
                    "وتأتي هذه الزيارة في سياق دينامية دبلوماسية تعرفها المملكة.",
                    "وكان البلدان قد وقعا في وقت سابق على مذكرة تفاهم في مجال {field2}."],
    ),
    Topic(
        "culture", _culture,
        titles=["انطلاق الدورة {edition} من {fest} بـ{city}", "{fest}: {guest_country} ضيف شرف الدورة {edition}",
                "تكريم {artist} في افتتاح {fest}", "اختتام فعاليات {fest} بـ{city}"],
        short_titles=["مهرجان", "ثقافة وفنون"],
        roles=[
            ["{city} - انطلقت يوم {day} بـ{city} فعاليات الدورة {edition} من {fest}، بمشاركة فنانين من {n1} دولة.",
             "{city} - تحتضن مدينة {city} ابتداء من يوم {day} الدورة {edition} من {fest}.",
             "{city} - افتتحت مساء {day} الدورة {edition} من {fest} بحضور عدد من الوجوه الفنية."],
            ["وتحل {guest_country} ضيف شرف على هذه الدورة، من خلال برنامج يضم عروضا فنية ومعارض.",
             "ويتضمن برنامج الدورة {n2} عرضا وندوات فكرية وورشات تكوينية لفائدة الشباب.",
             "وتعرف الدورة مشاركة {big} عارض وفنان من مختلف الأجيال."],
            ["وقال مدير المهرجان {director} إن هذه الدورة تراهن على الانفتاح على جمهور أوسع.",
             "وأكد {director} أن المهرجان أصبح موعدا قارا في الأجندة الثقافية الوطنية.",
             "وتم خلال حفل الافتتاح تكريم الفنان {artist} اعترافا بمساره الفني الطويل."],
            ["ويختتم المهرجان يوم {day} المقبل بحفل يحييه الفنان {artist2}.",
             "وخصصت إدارة المهرجان فضاءات مفتوحة لاستقبال الجمهور مجانا.",
             "وسيتم خلال الحفل الختامي الإعلان عن نتائج المسابقة الرسمية."],
        ],
        background=["يذكر أن الدورة السابقة من {fest} استقطبت أزيد من {big} زائر.",
                    "ويعد {fest} من أبرز التظاهرات الثقافية التي تنظم بالمملكة."],
    ),
    Topic(
        "accident", _accident,
        titles=["مصرع {dead} أشخاص في حادثة سير على {road}", "حادثة سير مروعة بين {city} و{city2}",
                "انقلاب {vehicle} يخلف قتلى وجرحى قرب {city}", "فاجعة طرقية ضواحي {city}"],
        short_titles=["حادثة سير مروعة", "فاجعة طرقية"],
        roles=[
            ["{city} - لقي {dead} أشخاص مصرعهم وأصيب {hurt} آخرون بجروح متفاوتة الخطورة، في حادثة سير وقعت يوم {day} على {road} الرابطة بين {city} و{city2}.",
             "{city} - خلفت حادثة سير خطيرة يوم {day} على مستوى {road} مصرع {dead} أشخاص وإصابة {hurt} آخرين.",
             "{city} - أسفر اصطدام بين {vehicle} و{vehicle2} على {road} عن مصرع {dead} أشخاص وإصابة {hurt} بجروح."],
            ["وحسب مصادر محلية، فإن الحادث نجم عن اصطدام {vehicle} بـ{vehicle2} في منعرج خطير.",
             "وأفادت السلطات المحلية بأن الحادثة وقعت إثر فقدان سائق {vehicle} السيطرة على المقود.",
             "وتشير المعطيات الأولية إلى أن السرعة المفرطة كانت وراء انقلاب {vehicle}."],
            ["وتم نقل المصابين إلى المستشفى الإقليمي بـ{city} لتلقي العلاجات الضرورية.",
             "وحلت بعين المكان عناصر الوقاية المدنية التي نقلت الجرحى إلى المركز الاستشفائي بـ{city2}.",
             "ووضعت جثث الضحايا بمستودع الأموات بـ{city} رهن التشريح الطبي."],
            ["وفتحت مصالح الدرك الملكي بحثا تحت إشراف النيابة العامة المختصة للكشف عن ملابسات الحادث.",
             "وباشرت عناصر الدرك الملكي تحرياتها لتحديد المسؤوليات.",
             "وأعادت الحادثة إلى الواجهة مطالب الساكنة بتوسيع هذا المقطع الطرقي."],
        ],
        background=["يذكر أن هذا المقطع الطرقي يشهد حوادث متكررة بسبب ضيقه وكثرة المنعرجات.",
                    "وتسجل الطرق المغربية سنويا أزيد من {big} قتيل، حسب معطيات الوكالة الوطنية للسلامة الطرقية."],
    ),
]
TOPIC_BY_NAME = {t.name: t for t in TOPICS}

# --------------------------------------------------------------------------------------------
# Outlets: header/footer boilerplate, spelling habits, how they credit agencies.
# --------------------------------------------------------------------------------------------

STANDARD_DISCLAIMER = (
    "تنويه: هذا الخبر منقول عن وكالة الأنباء كما ورد، وجميع حقوق النشر والتوزيع محفوظة للوكالة، "
    "ولا يتحمل الموقع أي مسؤولية عن مضمونه، ولا يجوز إعادة نشره أو توزيعه أو نسخه كليا أو جزئيا "
    "بأي وسيلة كانت دون الحصول على إذن كتابي مسبق من الجهة المالكة للحقوق، وكل مخالفة لذلك تعرض "
    "صاحبها للمتابعة القانونية وفق التشريعات الجاري بها العمل في مجال الملكية الفكرية وحقوق المؤلف."
)
AGENCY_FOOTER = (
    "وكالة المغرب العربي للأنباء، مؤسسة عمومية للإعلام تأسست سنة 1959، تقدم خدمات إخبارية متعددة اللغات "
    "والوسائط على مدار الساعة، ولها شبكة من المكاتب الجهوية والدولية في عدد من العواصم."
)


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    header: tuple[str, ...]
    footer: tuple[str, ...]
    read_also: str              # how the outlet labels related links
    hamza_drop: float = 0.0     # probability a hamza alef is written bare
    final_ya: float = 0.0       # probability a final ي is written ى (Egyptian habit)
    indic_digits: bool = False
    tatweel: float = 0.0
    harakat: float = 0.0
    credit: str = "prefix"      # prefix | suffix | source_line | none
    disclaimer: bool = False    # appends STANDARD_DISCLAIMER to wire copy
    agency_footer: bool = False  # appends AGENCY_FOOTER to MAP copy
    synonym_rate: float = 0.15


OUTLETS: list[Outlet] = [
    Outlet("sada", "صدى المغرب", ("صدى المغرب - متابعة",), ("تابعوا آخر الأخبار عبر تطبيق صدى المغرب على الهواتف الذكية",
           "جميع الحقوق محفوظة © صدى المغرب"), "اقرأ أيضا:", credit="prefix", synonym_rate=0.2),
    Outlet("nabd", "نبض الوطن", (), ("شاركوا هذا المقال مع أصدقائكم على مواقع التواصل الاجتماعي",), "إقرأ أيضاً:",
           hamza_drop=0.5, credit="suffix", disclaimer=True, synonym_rate=0.25),
    Outlet("mirsad", "المرصد", ("المرصد | أخبار وطنية",), ("حقوق النشر محفوظة لموقع المرصد الإخباري 2025",),
           "اقرأ المزيد:", credit="source_line", agency_footer=True, synonym_rate=0.1),
    Outlet("akhbar24", "أخبار 24", (), ("تابعونا على فيسبوك وتويتر وإنستغرام ليصلكم جديد الأخبار أولا بأول",
           "للتواصل مع هيئة التحرير: redaction@akhbar24.example"), "طالع أيضا:", tatweel=0.02, credit="prefix",
           disclaimer=True, synonym_rate=0.3),
    Outlet("bawaba", "البوابة", ("البوابة - الرباط",), (), "اقرأ أيضا:", harakat=0.03, credit="none", synonym_rate=0.2),
    Outlet("masr", "مصر الآن", (), ("اشترك في النشرة البريدية لمصر الآن ليصلك ملخص الأخبار يوميا",), "اقرأ أيضا..",
           final_ya=0.6, indic_digits=True, credit="suffix", synonym_rate=0.3),
    Outlet("sahil", "الساحل", ("الساحل - وكالات",), ("جميع الحقوق محفوظة لجريدة الساحل الإلكترونية",),
           "مواضيع ذات صلة:", credit="source_line", agency_footer=True, synonym_rate=0.15),
    Outlet("rif", "أصداء الريف", (), ("أصداء الريف: صوت الشمال",), "اقرأ أيضا:", hamza_drop=0.3, credit="prefix",
           disclaimer=True, synonym_rate=0.2),
    Outlet("atlas", "أطلس بريس", ("أطلس بريس",), ("حمل تطبيق أطلس بريس من متجر التطبيقات",
           "تابعوا أطلس بريس على يوتيوب"), "شاهد أيضا:", credit="prefix", synonym_rate=0.25),
    Outlet("janub", "الجنوب اليوم", (), ("الجنوب اليوم © 2025 - كل الحقوق محفوظة",), "اقرأ أيضا:", credit="suffix",
           agency_footer=True, synonym_rate=0.2),
    Outlet("khalij", "الخليج الآن", ("الخليج الآن - متابعات",), ("لمتابعة آخر المستجدات تابعونا عبر قناتنا على تيليغرام",),
           "اقرأ كذلك:", indic_digits=True, credit="source_line", synonym_rate=0.25),
    Outlet("madina", "المدينة 24", (), ("المدينة 24 - جريدة إلكترونية مستقلة",), "إقرأ أيضا:", hamza_drop=0.4,
           credit="none", disclaimer=True, synonym_rate=0.3),
]
OUTLET_BY_ID = {o.id: o for o in OUTLETS}

START = datetime(2026, 3, 1, 8, 0, tzinfo=timezone(timedelta(hours=1)))
_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
_HARAKAT = ["\u064e", "\u064f", "\u0650", "\u0651", "\u064b"]

# --------------------------------------------------------------------------------------------
# Data model
# --------------------------------------------------------------------------------------------


@dataclass
class Article:
    id: int
    source: str
    story: str                  # ground-truth story label
    title: str
    text: str
    published: str              # ISO 8601
    kind: str                   # wire | original | repost | amp | excerpt
    dup_of: int | None = None   # same-outlet duplicate of this article id


@dataclass
class Dataset:
    articles: list[Article]
    hard_negatives: list[tuple[int, int, str]]  # (article a, article b, kind)
    seed: int

    def true_pairs(self) -> set[tuple[int, int]]:
        """Unordered article pairs that belong to the same story (including duplicates)."""
        by_story: dict[str, list[int]] = {}
        for a in self.articles:
            by_story.setdefault(a.story, []).append(a.id)
        pairs: set[tuple[int, int]] = set()
        for ids in by_story.values():
            for x, y in itertools.combinations(sorted(ids), 2):
                pairs.add((x, y))
        return pairs

    def syndicated_pairs(self) -> set[tuple[int, int]]:
        """True pairs across different outlets (the cross-outlet story case)."""
        src = {a.id: a.source for a in self.articles}
        return {p for p in self.true_pairs() if src[p[0]] != src[p[1]]}

    def duplicate_pairs(self) -> set[tuple[int, int]]:
        return {(min(a.id, a.dup_of), max(a.id, a.dup_of)) for a in self.articles if a.dup_of is not None}

    def crawl_order(self) -> list[Article]:
        """Articles in the order a crawler meets them: by publication time plus a seeded crawl delay."""
        r = random.Random(self.seed * 7919 + 1)
        keyed = []
        for a in self.articles:
            delay = r.expovariate(1 / 6.0)  # hours; a few backfilled days later
            if r.random() < 0.03:
                delay += r.uniform(24 * 20, 24 * 40)  # crawled next month (backfill)
            keyed.append((datetime.fromisoformat(a.published) + timedelta(hours=delay), a.id, a))
        return [a for _, _, a in sorted(keyed, key=lambda k: (k[0], k[1]))]


# --------------------------------------------------------------------------------------------
# Generation
# --------------------------------------------------------------------------------------------


class _Fmt(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _fill(template: str, ent: dict[str, str]) -> str:
    return template.format_map(_Fmt(ent))


@dataclass
class _Story:
    key: str
    topic: Topic
    ent: dict[str, str]
    title: str
    sentences: list[str]
    extra: list[str]            # background sentences outlets may add
    agency: tuple[str, str]


def _make_story(key: str, topic: Topic, r: random.Random, ent: dict[str, str] | None = None,
                n_sentences: int | None = None) -> _Story:
    ent = ent or topic.entities(r)
    sentences = []
    for role in topic.roles:
        sentences.append(_fill(r.choice(role), ent))
    # Some stories carry one or two more sentences: a second alternative of a middle role.
    for _ in range(r.choice([0, 0, 1, 2])):
        role = r.choice(topic.roles[1:])
        extra = _fill(r.choice(role), ent)
        if extra not in sentences:
            sentences.insert(r.randint(1, len(sentences)), extra)
    if n_sentences is not None:
        sentences = sentences[:n_sentences]
    bg = [_fill(s, ent) for s in topic.background]
    r.shuffle(bg)
    agency = AGENCIES[0] if r.random() < 0.6 else r.choice(AGENCIES[1:])
    return _Story(key, topic, ent, _fill(r.choice(topic.titles), ent), sentences, bg, agency)


def _swap_synonyms(sentence: str, rate: float, r: random.Random) -> str:
    words = sentence.split(" ")
    out = []
    for w in words:
        core = w.strip("،.:؛")
        prefix = ""
        if core not in SYNONYMS and core.startswith("و") and core[1:] in SYNONYMS:
            prefix, core = "و", core[1:]
        if core in SYNONYMS and r.random() < rate:
            tail = w[len(prefix) + len(core):] if w.startswith(prefix + core) else ""
            out.append(prefix + r.choice(SYNONYMS[core]) + tail)
        else:
            out.append(w)
    return " ".join(out)


def _spell(text: str, outlet: Outlet, r: random.Random) -> str:
    if outlet.hamza_drop:
        text = "".join("ا" if ch in "أإ" and r.random() < outlet.hamza_drop else ch for ch in text)
    if outlet.final_ya:
        words = text.split(" ")
        text = " ".join(w[:-1] + "ى" if w.endswith("ي") and r.random() < outlet.final_ya else w for w in words)
    if outlet.indic_digits:
        text = text.translate(_INDIC)
    if outlet.tatweel or outlet.harakat:
        chars = list(text)
        for i, ch in enumerate(chars[:-1]):
            # only inside a word, after a letter that joins to the next one
            if "\u0628" <= ch <= "\u064a" and ch not in "اوزرذدةء" and "\u0621" <= chars[i + 1] <= "\u064a":
                if r.random() < outlet.tatweel:
                    chars[i] = ch + "\u0640"
                elif r.random() < outlet.harakat:
                    chars[i] = ch + r.choice(_HARAKAT)
        text = "".join(chars)
    return text


def _rewrite_title(story: _Story, r: random.Random) -> str:
    title = _fill(r.choice(story.topic.titles), story.ent)
    if r.random() < 0.2:
        title = r.choice(["عاجل: ", "بالفيديو: ", "رسميا: ", "بالأرقام: "]) + title
    return title


def _copy_text(story: _Story, outlet: Outlet, r: random.Random, related: list[str], *, excerpt: bool = False,
               with_links: bool = True, disclaimer: bool | None = None) -> str:
    """One outlet's version of a wire story."""
    sentences = [_swap_synonyms(s, outlet.synonym_rate, r) for s in story.sentences]
    if excerpt:
        sentences = sentences[: max(2, int(len(sentences) * r.uniform(0.5, 0.7)))]
    else:
        if len(sentences) > 4 and r.random() < 0.4:
            del sentences[r.randint(1, len(sentences) - 1)]
        if r.random() < 0.4 and story.extra:
            sentences.insert(r.randint(2, len(sentences)), r.choice(story.extra))
        if len(sentences) > 4 and r.random() < 0.15:
            i = r.randint(1, len(sentences) - 2)
            sentences[i], sentences[i + 1] = sentences[i + 1], sentences[i]
    short, full = story.agency
    credit = outlet.credit if r.random() < 0.85 else "none"
    first = sentences[0]
    city, sep, rest = first.partition(" - ")
    if credit == "prefix" and sep:
        sentences[0] = f"{city} ({short}) - {rest}"
    elif credit in ("suffix", "source_line", "none") and sep and r.random() < 0.5:
        sentences[0] = rest  # dateline dropped
    # Paragraphs: 1–3 sentences each, the outlet's layout.
    paragraphs: list[str] = []
    i = 0
    while i < len(sentences):
        k = r.choice([1, 1, 2, 2, 3])
        paragraphs.append(" ".join(sentences[i:i + k]))
        i += k
    if credit == "suffix":
        paragraphs[-1] += f" ({short})"
    if with_links and related:
        for _ in range(r.choice([0, 1, 1, 2])):
            pos = r.randint(1, len(paragraphs))
            paragraphs.insert(pos, f"{outlet.read_also} {r.choice(related)}")
    lines = list(outlet.header) + paragraphs
    if credit == "source_line":
        lines.append(f"المصدر: {full}")
    if (outlet.disclaimer if disclaimer is None else disclaimer):
        lines.append(STANDARD_DISCLAIMER)
    if outlet.agency_footer and short == "و.م.ع":
        lines.append(AGENCY_FOOTER)
    lines += list(outlet.footer)
    return _spell("\n".join(lines), outlet, r)


def _original_text(story: _Story, outlet: Outlet, r: random.Random, related: list[str],
                   first_line: str | None = None, disclaimer: bool = False) -> str:
    paragraphs = []
    i = 0
    sentences = list(story.sentences)
    while i < len(sentences):
        k = r.choice([1, 2, 2, 3])
        paragraphs.append(" ".join(sentences[i:i + k]))
        i += k
    if related and r.random() < 0.5:
        paragraphs.insert(r.randint(1, len(paragraphs)), f"{outlet.read_also} {r.choice(related)}")
    lines = list(outlet.header) + ([first_line] if first_line else []) + paragraphs
    if disclaimer:
        lines.append(STANDARD_DISCLAIMER)
    lines += list(outlet.footer)
    return _spell("\n".join(lines), outlet, r)


def generate(seed: int = 20260501, *, wire_stories: int = 240, original_stories: int = 500,
             topic_pairs: int = 70, headline_pairs: int = 50, footer_stories: int = 60,
             start: datetime = START, span_days: float = 60.0, id_base: int = 1000) -> Dataset:
    """Build the labelled set. Same seed, same set (byte for byte)."""
    r = random.Random(seed)
    articles: list[Article] = []
    hard: list[tuple[int, int, str]] = []
    headlines: list[str] = []
    next_id = [id_base]

    def new_id() -> int:
        next_id[0] += r.randint(1, 9)
        return next_id[0]

    def when(day: float) -> datetime:
        return start + timedelta(days=day)

    def add(source: str, story: str, title: str, text: str, t: datetime, kind: str, dup_of: int | None = None) -> Article:
        a = Article(new_id(), source, story, title, text, t.isoformat(timespec="minutes"), kind, dup_of)
        articles.append(a)
        headlines.append(title)
        return a

    def related() -> list[str]:
        return headlines[-40:] if headlines else [_fill(TOPICS[0].titles[0], TOPICS[0].entities(r))]

    span = span_days
    # 1. Wire stories republished by several outlets.
    for s in range(wire_stories):
        topic = r.choice(TOPICS)
        story = _make_story(f"wire-{s}", topic, r)
        t0 = when(r.uniform(0, span))
        k = r.choice([2, 2, 3, 3, 3, 4, 4, 5, 6])
        for j, outlet in enumerate(r.sample(OUTLETS, k)):
            excerpt = r.random() < 0.06
            t = t0 + timedelta(minutes=r.uniform(5, 60 * (30 if r.random() < 0.9 else 24 * 12)))
            a = add(outlet.id, story.key, _rewrite_title(story, r), _copy_text(story, outlet, r, related(), excerpt=excerpt),
                    t, "excerpt" if excerpt else "wire")
            # 2. Same-outlet duplicates: a repost under a new id, or the AMP twin.
            roll = r.random()
            if roll < 0.06:
                text = a.text
                if r.random() < 0.5:
                    text = text.replace(outlet.read_also, outlet.read_also + " " + r.choice(related()) + "\n" + outlet.read_also, 1) \
                        if outlet.read_also in text else text + "\n" + f"{outlet.read_also} {r.choice(related())}"
                add(outlet.id, story.key, a.title, text, t + timedelta(hours=r.uniform(2, 72)), "repost", dup_of=a.id)
            elif roll < 0.10:
                lines = [ln for ln in a.text.split("\n") if not ln.startswith(outlet.read_also)]
                add(outlet.id, story.key, a.title, "\n".join(lines), t + timedelta(minutes=1), "amp", dup_of=a.id)

    # 3. Original stories, one outlet each.
    for s in range(original_stories):
        topic = r.choice(TOPICS)
        story = _make_story(f"orig-{s}", topic, r)
        outlet = r.choice(OUTLETS)
        add(outlet.id, story.key, story.title, _original_text(story, outlet, r, related()), when(r.uniform(0, span)), "original")

    # 4a. Hard negatives: same topic, different stories (two reports of one round, two sessions...).
    for s in range(topic_pairs):
        topic = TOPIC_BY_NAME[r.choice(["football", "parliament", "weather", "justice", "economy", "accident"])]
        e1 = topic.entities(r)
        e2 = topic.entities(r)
        shared = {"football": ("comp", "round", "day", "stadium"), "parliament": ("chamber", "day", "ministry", "minister_title", "minister"),
                  "weather": ("kind", "level", "p1", "p2"), "justice": ("court", "city", "charge"),
                  "economy": ("inst", "quarter", "product"), "accident": ("city", "road")}[topic.name]
        for key in shared:
            e2[key] = e1[key]  # same round / chamber / court: as close as two real different stories get
        t = when(r.uniform(0, span))
        o1, o2 = r.sample(OUTLETS, 2)
        st1 = _make_story(f"topic-{s}-a", topic, r, ent=e1)
        st2 = _make_story(f"topic-{s}-b", topic, r, ent=e2)
        a1 = add(o1.id, st1.key, st1.title, _copy_text(st1, o1, r, related()), t, "original")
        a2 = add(o2.id, st2.key, st2.title, _copy_text(st2, o2, r, related()), t + timedelta(hours=r.uniform(0, 30)), "original")
        hard.append((a1.id, a2.id, "topic"))

    # 4b. Same short headline as first line, different body.
    for s in range(headline_pairs):
        topic = r.choice(TOPICS)
        head = r.choice(topic.short_titles)
        t = when(r.uniform(0, span))
        o1, o2 = r.choice(OUTLETS), r.choice(OUTLETS)
        st1 = _make_story(f"head-{s}-a", topic, r, n_sentences=r.choice([2, 3]))
        st2 = _make_story(f"head-{s}-b", topic, r, n_sentences=r.choice([2, 3]))
        a1 = add(o1.id, st1.key, head, _original_text(st1, o1, r, [], first_line=head), t, "original")
        a2 = add(o2.id, st2.key, head, _original_text(st2, o2, r, [], first_line=head), t + timedelta(hours=r.uniform(0, 48)), "original")
        hard.append((a1.id, a2.id, "headline"))

    # 4c. Different short stories carrying the same long disclaimer / agency footer.
    footer_ids: list[int] = []
    disclaimer_outlets = [o for o in OUTLETS if o.disclaimer]
    for s in range(footer_stories):
        topic = r.choice(TOPICS)
        story = _make_story(f"footer-{s}", topic, r, n_sentences=r.choice([2, 3]))
        outlet = r.choice(disclaimer_outlets)
        a = add(outlet.id, story.key, story.title,
                _original_text(story, outlet, r, [], disclaimer=True), when(r.uniform(0, span)), "original")
        footer_ids.append(a.id)
    for x, y in itertools.combinations(footer_ids, 2):
        hard.append((x, y, "footer"))
    # every wire copy that carries the disclaimer is also a footer-sharing negative of those stories
    return Dataset(articles, hard, seed)


def sample(data: Dataset, n_pairs: int = 200, seed: int = 1) -> Dataset:
    """A smaller consistent subset: whole wire stories until `n_pairs` cross-outlet pairs, plus
    the hard negatives and a share of the original stories."""
    r = random.Random(seed)
    by_story: dict[str, list[Article]] = {}
    for a in data.articles:
        by_story.setdefault(a.story, []).append(a)
    wire = sorted(k for k in by_story if k.startswith("wire-"))
    r.shuffle(wire)
    keep: set[str] = set()
    pairs = 0
    for key in wire:
        if pairs >= n_pairs:
            break
        keep.add(key)
        sources = [a.source for a in by_story[key]]
        pairs += sum(1 for x, y in itertools.combinations(sources, 2) if x != y)
    hard = [h for h in data.hard_negatives if h[2] != "footer"]
    ids_hard = {i for h in hard for i in h[:2]}
    footer_stories = sorted({a.story for a in data.articles if a.story.startswith("footer-")})[:20]
    originals = sorted(k for k in by_story if k.startswith("orig-"))
    keep |= set(r.sample(originals, min(len(originals), n_pairs // 2)))
    keep |= set(footer_stories)
    arts = [a for a in data.articles if a.story in keep or a.id in ids_hard]
    kept_ids = {a.id for a in arts}
    hard_all = [h for h in data.hard_negatives if h[0] in kept_ids and h[1] in kept_ids]
    return Dataset(arts, hard_all, data.seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20260501)
    parser.add_argument("--show", type=int, default=0, help="print N articles of one wire story")
    args = parser.parse_args()
    data = generate(args.seed)
    kinds: dict[str, int] = {}
    for a in data.articles:
        kinds[a.kind] = kinds.get(a.kind, 0) + 1
    hk: dict[str, int] = {}
    for h in data.hard_negatives:
        hk[h[2]] = hk.get(h[2], 0) + 1
    print(f"articles {len(data.articles)}  by kind {kinds}")
    print(f"true pairs {len(data.true_pairs())}  cross-outlet {len(data.syndicated_pairs())}  "
          f"same-outlet duplicates {len(data.duplicate_pairs())}")
    print(f"hard negative pairs {hk}")
    if args.show:
        story = next(a.story for a in data.articles if a.kind == "wire")
        for a in [a for a in data.articles if a.story == story][: args.show]:
            print(f"\n--- {a.id} {a.source} {a.published} [{a.kind}]\n# {a.title}\n{a.text}")


if __name__ == "__main__":
    main()
