"""A controlled multilingual testbed: synthetic languages, a small pretrained encoder, planted tasks.

``World(WorldConfig(), home).build()`` generates the languages (one grammar, meaning
representations, per-language lexicon, word order and morphology), writes the intermediate
and target tasks in real file layouts and registers them as ordinary tasks;
``world.encoder()`` pretrains (once) a small BERT by masked-language modelling on the
world's multilingual corpus. See ``docs/testbed.md``.
"""

from taskdiff.testbed.corpus import CorpusConfig
from taskdiff.testbed.languages import DEFAULT_LANGUAGES, LanguageSpec
from taskdiff.testbed.pretrain import EncoderConfig, retrieval_accuracy
from taskdiff.testbed.tasks import TaskSpec
from taskdiff.testbed.world import DEFAULT_INTERMEDIATES, DEFAULT_TARGETS, World, WorldConfig, build_world

__all__ = [
    "CorpusConfig", "DEFAULT_INTERMEDIATES", "DEFAULT_LANGUAGES", "DEFAULT_TARGETS", "EncoderConfig",
    "LanguageSpec", "TaskSpec", "World", "WorldConfig", "build_world", "retrieval_accuracy",
]
