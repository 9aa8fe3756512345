"""The services' garbage collector thresholds (``common.garbage_collection``)."""
import gc

from common import garbage_collection


def test_tune_sets_the_thresholds_and_can_be_called_again():
    before = gc.get_threshold()
    try:
        garbage_collection.tune()
        garbage_collection.tune()
        assert gc.get_threshold() == garbage_collection.THRESHOLDS
    finally:
        gc.set_threshold(*before)
