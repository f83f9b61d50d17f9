import math

from pipeline.text import is_blank, normalise


def test_normalise_keeps_line_breaks_and_folds_spaces():
    assert normalise("  a\t\tb  \r\n\r\n  c  ") == "a b\nc"


def test_is_blank():
    assert is_blank(None) and is_blank(math.nan) and is_blank("  \n\t") and is_blank("")
    assert not is_blank("-") and not is_blank("n/a")


def test_sentences_and_lines(splitter):
    [sentences] = splitter.split(["She listens. But never acts on it!\n- rota late\n- parking"])
    assert sentences == ["She listens.", "But never acts on it!", "- rota late", "- parking"]


def test_lines_keep_their_sentences_and_lines_without_words_are_dropped(splitter):
    text = "She listens. But never acts on it!\n\n---\n- rota late"
    assert splitter.split_lines([text, "-"]) == [
        [("She listens. But never acts on it!", ["She listens.", "But never acts on it!"]), ("- rota late", ["- rota late"])],
        [("-", ["-"])],  # a text with no word is still one line of one sentence
    ]


def test_a_text_always_has_a_sentence(splitter):
    assert splitter.split(["-", "...", "ok"]) == [["-"], ["..."], ["ok"]]


def test_many_texts_keep_their_order(splitter):
    texts = [f"Text {i}. Second {i}." for i in range(300)]
    result = splitter.split(texts)
    assert result[0] == ["Text 0.", "Second 0."] and result[299] == ["Text 299.", "Second 299."]
