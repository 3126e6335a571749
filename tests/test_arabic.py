"""pipelines.arabic: one test per behaviour of arabic.md §1–3 and storage-and-speed.md §3."""

from __future__ import annotations

import sqlite3

import pytest

from pipelines.arabic import fts_query, has_arabic, light_stem, nfc, normalize, query_terms, search_text, tokens


# -- §1 code points ----------------------------------------------------------------------------


@pytest.mark.parametrize("mark", [chr(c) for c in range(0x064B, 0x0653)])
def test_harakat_are_deleted(mark):
    assert normalize(f"ك{mark}تب") == "كتب"


def test_vocalised_words_match_bare_forms():
    assert normalize("المَغْرِب") == "المغرب"
    assert normalize("مُحَمَّدٌ") == "محمد"
    assert normalize("كتاباً") == "كتابا"


def test_superscript_alef_deleted():
    assert normalize("الرحمٰن") == "الرحمن"
    assert normalize("هٰذا") == "هذا"


@pytest.mark.parametrize("mark", ["\u0610", "\u0615", "\u061A", "\u0656", "\u065F", "\u06D6", "\u06DC", "\u06ED"])
def test_quranic_and_extended_marks_deleted(mark):
    assert normalize(f"صلى{mark}") == "صلي"


def test_combining_hamza_and_madda_compose_before_deleting():
    # NFD-style input: the combining marks must become أ إ آ ؤ ئ, not be stripped to bare letters.
    assert normalize("\u0627\u0654") == "ا"  # ا+ٔ → أ → ا
    assert normalize("\u0627\u0653") == "ا"  # ا+ٓ → آ → ا
    assert normalize("\u0648\u0654") == "ؤ"  # و+ٔ → ؤ (kept, not و)
    assert normalize("\u064A\u0654") == "ئ"  # ي+ٔ → ئ
    assert normalize("سو\u0654ال") == "سؤال"
    assert normalize("ب\u0654") == "ب"  # leftover combining hamza on a non-carrier is deleted


def test_tatweel_deleted():
    assert normalize("المـــغرب") == "المغرب"
    assert normalize("عـــاجل") == "عاجل"


@pytest.mark.parametrize("alef", ["أ", "إ", "آ", "ٱ"])
def test_alef_variants_fold_to_bare_alef(alef):
    assert normalize(f"{alef}ب") == "اب"


def test_alef_maqsura_to_yeh_and_teh_marbuta_to_heh():
    assert normalize("مستشفى") == "مستشفي"
    assert normalize("مدرسة") == "مدرسه"


def test_hamza_carriers_kept():
    assert normalize("سؤال الأئمة ماء") == "سؤال الائمه ماء"


@pytest.mark.parametrize(("persian", "arabic"), [("ی", "ي"), ("ے", "ي"), ("ک", "ك"), ("ۀ", "ه"), ("ہ", "ه")])
def test_persian_lookalikes_fold(persian, arabic):
    assert normalize(persian) == arabic


@pytest.mark.parametrize("letter", ["ڤ", "ڨ", "پ", "چ", "گ"])
def test_maghrebi_and_loanword_letters_kept(letter):
    assert normalize(letter) == letter


@pytest.mark.parametrize("control", ["\u200b", "\u200c", "\u200d"])
def test_zero_width_controls_do_not_split_words(control):
    assert normalize(f"المغ{control}رب") == "المغرب"
    assert tokens(f"المغ{control}رب") == ["مغرب"]


@pytest.mark.parametrize(
    "control", ["\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff", "\u00ad"],
)
def test_bidi_controls_bom_and_soft_hyphen_deleted(control):
    assert normalize(f"{control}12{control} يناير") == "12 يناير"


def test_nbsp_becomes_space():
    assert normalize("المغرب\u00a0اليوم\u202f2024") == "المغرب اليوم 2024"


def test_presentation_forms_and_lam_alef_ligatures():
    assert normalize("ﺍﻟﻤﻐﺮﺏ") == "المغرب"
    assert normalize("ﻻ ﻷ ﻹ ﻵ") == "لا لا لا لا"


def test_nfkc_expands_honorific_ligature():
    assert normalize("ﷺ") == "صلي الله عليه وسلم"


@pytest.mark.parametrize("digits", ["٢٠٢٤", "۲۰۲۴", "2024"])
def test_both_arabic_digit_sets_become_ascii(digits):
    assert normalize(digits) == "2024"
    assert normalize("۴۵۶ ٤٥٦") == "456 456"


def test_arabic_decimal_and_thousands_separators():
    assert normalize("٣٫٥") == "3.5"
    assert normalize("١٬٠٠٠") == "1000"


def test_arabic_punctuation_separates_tokens():
    assert tokens("الرباط،فاس؛مراكش؟طنجة", stem=False) == ["الرباط", "فاس", "مراكش", "طنجه"]


def test_latin_lowercased_and_accents_left_to_the_tokenizer():
    assert normalize("Le Gouvernement ÉTUDIE") == "le gouvernement étudie"
    assert search_text("Société Générale, l'État") == "société générale l état"


# -- §2 Lucene light10 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "stem"),
    [("والحسن", "حسن"), ("بالحسن", "حسن"), ("كالحسن", "حسن"), ("فالحسن", "حسن"), ("وحسن", "حسن"),
     ("للاخر", "اخر"), ("زوجها", "زوج"), ("وساهدون", "ساهد"), ("الو", "الو"), ("ساهدهات", "ساهد")],
)
def test_lucene_stemmer_examples(word, stem):
    assert light_stem(word) == stem


def test_short_words_keep_their_letters():
    assert light_stem("وطن") == "وطن"  # و needs 3 letters left
    assert light_stem("الم") == "الم"  # ال needs 2 letters left
    assert light_stem("كتابه") == "كتاب"  # ه suffix
    assert light_stem("بلد") == "بلد"  # lone ب is never stripped at index time


def test_stemmer_is_cached():
    light_stem.cache_clear()
    light_stem("المدرسه")
    light_stem("المدرسه")
    assert light_stem.cache_info().hits == 1


def test_latin_and_numbers_are_not_stemmed():
    assert light_stem("elections") == "elections"
    assert light_stem("2025") == "2025"


# -- §3 pitfalls of other tools -----------------------------------------------------------------


def test_alef_maqsura_is_not_mapped_to_alef_like_pyarabic():
    assert normalize("إلى آخر ٱلكتاب على أن") == "الي اخر الكتاب علي ان"


def test_hamza_is_not_collapsed_like_pyarabic_normalize_hamza():
    assert "ء" not in normalize("سؤال الأئمة")
    assert normalize("سؤال") != normalize("سوال")


@pytest.mark.parametrize(
    ("word", "stem"),
    [("سيارات", "سيار"), ("والمدرسة", "مدرس"), ("فالحكومة", "حكوم"), ("حكومات", "حكوم"), ("الحكومة", "حكوم"),
     ("المغربية", "مغرب"), ("بالمغرب", "مغرب"), ("الْعَرَبِيَّةُ", "عرب"), ("العـــربية", "عرب")],
)
def test_snowball_pitfall_words_stem_like_lucene(word, stem):
    assert tokens(word) == [stem]


def test_root_stemmer_distractors_stay_apart():
    assert len({tokens(w)[0] for w in ("كتاب", "مكتب", "كاتب")}) == 3
    assert tokens("أمطار") != tokens("مطار")
    assert tokens("المحكمة") != tokens("الحكومة")
    assert tokens("النخبة") != tokens("الانتخابات")
    assert tokens("السعرات") != tokens("أسعار")


def test_unicode61_splitting_words_is_avoided():
    assert search_text("كَتَبَ الوَلَدُ") == "كتب ولد"


def test_lucene_weak_spots_are_known():
    assert light_stem("كتابهم") == "كتابهم"  # هم is not a light10 suffix


# -- search_text / tokens --------------------------------------------------------------------------


def test_search_text_is_space_joined_stemmed_tokens():
    assert search_text("أعلنت الحكومةُ المغربية، يوم ٢٠ يناير.") == "اعلنت حكوم مغرب يوم 20 يناير"
    assert search_text("") == ""
    assert tokens("والمغرب بالمغرب", stem=False) == ["والمغرب", "بالمغرب"]


def test_has_arabic():
    assert has_arabic("Le360 هسبريس")
    assert not has_arabic("Le360 Marrakech")


# -- fts_query -------------------------------------------------------------------------------------


def test_fts_query_expands_proclitics_for_long_stems():
    assert fts_query("الرباط") == '("برباط" OR "رباط" OR "فرباط" OR "كرباط" OR "لرباط")'
    assert query_terms("مراكش") == [["بمراكش", "فمراكش", "كمراكش", "لمراكش", "مراكش"]]


def test_fts_query_expansion_stems_clitic_plus_bare_word_like_the_index():
    for query, indexed in [("قانون", "بقانون"), ("القانون", "لقانون"), ("اللجنة", "للجنة"), ("اللاعب", "للاعب"),
                           ("كرة", "لكرة"), ("لغة", "للغة"), ("مراكش", "ومراكش"), ("المغرب", "فالمغرب")]:
        assert any(tokens(indexed) == [alt] for alt in query_terms(query)[0]), (query, indexed)


def test_fts_query_short_teh_marbuta_stems_only_get_lam():
    assert fts_query("كرة") == '("كر" OR "لكر")'  # لكرة القدم, never فكرة
    assert fts_query("يد") == '"يد"'


def test_fts_query_ands_terms_and_dedups():
    assert fts_query("في في") == '"في"'
    assert fts_query("قانون 2025") == '("بقان" OR "فقان" OR "قان" OR "كقان" OR "لقان") AND "2025"'


def test_fts_query_empty_or_only_syntax_matches_nothing():
    assert fts_query("") == '""'
    assert fts_query("   ") == '""'
    assert fts_query('"*()-:^') == '""'
    assert fts_query(None) == '""'  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"', '""'),
        ('elections"', '"elections"'),
        ("rab*", '"rab"'),
        ("NEAR(a b)", '"near" AND "a" AND "b"'),
        ("a OR b", '"a" AND "or" AND "b"'),
        ("a NOT b", '"a" AND "not" AND "b"'),
        ("-gouvernement", '"gouvernement"'),
        ("title:maroc", '"title" AND "maroc"'),
        ("(maroc)", '"maroc"'),
        ("^maroc", '"maroc"'),
        ('x" OR "1"="1', '"x" AND "or" AND "1"'),
    ],
)
def test_fts_query_never_passes_syntax_through(query, expected):
    assert fts_query(query) == expected


@pytest.fixture(scope="module")
def fts():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE f USING fts5(title, text, tokenize='unicode61 remove_diacritics 2')")
    docs = [
        ("الحكومة والبرلمان", "صادق مجلس الحكومةِ على القانون بالرباط"),
        ("المحكمة", "أصدرت المحكمة حكمها"),
        ("Société", "Le gouvernement a adopté la loi"),
        ("NEAR or", "title column OR"),
    ]
    conn.executemany("INSERT INTO f VALUES (?, ?)", [(search_text(t), search_text(b)) for t, b in docs])
    return conn


def _match(conn, q):
    return [r for (r,) in conn.execute("SELECT rowid FROM f WHERE f MATCH ? ORDER BY rowid", (fts_query(q),))]


@pytest.mark.parametrize(
    "hostile",
    ['"', '""', "*", "NEAR(", "NEAR(a b, 3)", "OR", "AND", "NOT", "-", ":", "title:", "(", ")", "((", "^",
     "a + b", "{title text}: x", "الحكومة OR", '"الحكومة', "\\", "'", "%", "\x00", "ـ", "\u064e", "\u200f"],
)
def test_fts_query_is_always_valid_fts5(fts, hostile):
    _match(fts, hostile)  # raises sqlite3.OperationalError on a syntax error


def test_fts_query_finds_arabic_through_diacritics_hamza_and_clitics(fts):
    assert _match(fts, "الحُكومة") == [1]
    assert _match(fts, "حكومه الرباط") == [1]
    assert _match(fts, "المحكمة") == [2]
    assert _match(fts, "societe gouvernement") == [3]
    assert _match(fts, "near OR") == [4]  # operators are searched for as words
