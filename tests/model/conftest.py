"""Fixtures with the real MiniLM encoder and spaCy sentence recogniser (integration tests)."""

import pytest

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.encode import SentenceTransformerEncoder
from pipeline.model import load_model
from pipeline.tagger import Tagger
from pipeline.text import SentenceSplitter



def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/model" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def real_params():
    return load_params()


@pytest.fixture(scope="session")
def real_encoder(real_params):
    return SentenceTransformerEncoder(real_params.encoder)


@pytest.fixture(scope="session")
def real_splitter(real_params):
    return SentenceSplitter(real_params.text)


@pytest.fixture(scope="session")
def shipped_model_dir():
    return PROJECT_ROOT / "models" / "default"


@pytest.fixture(scope="session")
def shipped(taxonomy, real_encoder, real_splitter, shipped_model_dir):
    return Tagger(load_model(shipped_model_dir, taxonomy.ids), encoder=real_encoder, splitter=real_splitter)
