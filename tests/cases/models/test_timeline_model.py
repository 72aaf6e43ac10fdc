"""The timeline event model: what it shows for each kind."""


def test_each_event_kind_shows_the_label_its_choice_declares():
    from cases.models import TimelineEvent

    for value, label in TimelineEvent.Kind.choices:
        assert TimelineEvent(kind=value).get_kind_display() == label
    assert TimelineEvent(kind="retired_kind").get_kind_display() == "retired_kind"
