"""Normalisation and tokenisation of multilingual text."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pytest

from ml import ThemeModel
from ml.features import SpacedCharTfidf
from ml.normalise import normalise_text
from ml.tokenise import MultilingualAnalyzer


def test_normalise_replaces_noise_with_placeholders() -> None:
    text = "Mail ME at a.b@x.com or see https://x.io/a?b=1 @bob 1,234!!!!! Sooooo slow"
    assert normalise_text(text) == "mail me at xemail or see xurl xuser xnum ! soo slow"


def test_normalise_handles_none_and_full_width() -> None:
    assert normalise_text(None) == ""  # type: ignore[arg-type]
    assert normalise_text("ＡＢＣ１２３") == "abc xnum"


def test_chinese_is_cut_into_character_ngrams() -> None:
    features = MultilingualAnalyzer()("快递太慢")
    assert {"快", "快 递", "快递太"} <= set(features)


def test_russian_inflections_share_a_prefix_feature() -> None:
    analyzer = MultilingualAnalyzer(stem_length=5)
    prefixes = [
        {f for f in analyzer(w) if f.startswith("~")} for w in ("доставка", "доставки", "доставкой")
    ]
    assert prefixes[0] == prefixes[1] == prefixes[2] == {"~доста"}


def test_inflections_share_a_snowball_stem_per_script() -> None:
    analyzer = MultilingualAnalyzer(stem_length=0)
    assert analyzer("доставки") == analyzer("доставкой") == ["доставк"]
    assert analyzer("charged") == analyzer("charging") == analyzer("charges") == ["charg"]
    assert analyzer("cards") == analyzer("card") == ["card"]
    # Bigrams are of stems too; Chinese characters are not stemmed.
    assert "card charg" in analyzer("cards charged")
    assert {"快", "快 递"} <= set(analyzer("快递"))
    # Without a stemmer (as for theme labels) the words stay as written.
    assert "charged" in MultilingualAnalyzer(stemmer=None)("charged twice")


def test_function_words_are_left_out_of_unigrams_but_not_bigrams() -> None:
    features = MultilingualAnalyzer(stem_length=0)("how do i activate my card")
    assert "how" not in features and "my" not in features
    assert {"activ", "card", "how do", "my card"} <= set(features)
    assert "не" not in MultilingualAnalyzer()("не вывозят мусор")
    assert "my" in MultilingualAnalyzer(drop_stop_words=False)("my card")


def test_analyzer_pickles_after_use() -> None:
    analyzer = MultilingualAnalyzer()
    before = analyzer("charged twice")
    copy = pickle.loads(pickle.dumps(analyzer))  # the stem cache is left out of the pickle
    assert copy("charged twice") == before


def test_bigrams_do_not_cross_punctuation() -> None:
    assert "slow refund" not in MultilingualAnalyzer()("slow. refund")


def test_ml_imports_nothing_of_ours_or_flask() -> None:
    allowed = {
        "numpy",
        "scipy",
        "sklearn",
        "joblib",
        "jieba",
        "snowballstemmer",
        "ml",
        "__future__",
    }
    stdlib = {"re", "unicodedata", "collections", "dataclasses", "pathlib", "typing", "io"}
    for path in Path(__file__).resolve().parents[2].joinpath("ml").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] in allowed | stdlib, f"{path.name} imports {name}"


def test_char_block_ignores_placeholders() -> None:
    # "xnum" as character n-grams made every Chinese review with a number look alike.
    texts = [normalise_text(t) for t in ["质量太差 123", "物流太慢 4567", "good app", "bad app"]]
    block = SpacedCharTfidf(min_df=1)
    X = block.fit_transform(texts)
    assert not any("xn" in gram for gram in block.vectorizer_.get_feature_names_out())
    assert X[0].nnz == 0 and X[1].nnz == 0
    assert X[2].nnz > 0


@pytest.mark.parametrize(("name", "value"), [("stemmer", "porter"), ("segmenter", "words")])
def test_an_unknown_stemmer_or_segmenter_is_refused(name, value):
    with pytest.raises(ValueError, match=name):
        ThemeModel(**{name: value}).fit(["late delivery", "wrong size", "refund please"])
