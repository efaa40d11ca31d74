"""plan_sync: which documents to upload, which agent files to keep and which to remove (a pure function)."""

from __future__ import annotations

from pathlib import Path

import pytest

from raia_provider.engines.knowledge_manifest import Manifest, ManifestEntry
from raia_provider.engines.knowledge_plan import HashedDocument, Keep, Plan, Upload, plan_sync
from raia_provider.engines.knowledge_source import SourceDocument
from raia_provider.models.files import AgentFile, VectorStoreStatus

HASH_A = "a" * 64
HASH_B = "b" * 64


def document(relative: str, sha256: str = HASH_A, size: int = 10) -> HashedDocument:
    source = SourceDocument(
        relative=relative,
        target=Path(f"/kb/{relative}"),
        location=f"file:///kb/{relative}",
        size=size,
        version="1",
    )
    return HashedDocument(source, sha256)


def agent_file(
    file_id: str,
    file_name: str,
    status: VectorStoreStatus | None = "done",
    created_at: str = "2026-01-01T00:00:00Z",
) -> AgentFile:
    return AgentFile(
        id=file_id,
        file_name=file_name,
        url="https://x/y",
        created_at=created_at,
        vector_store_upload_status=status,
    )


def manifest_of(**files: HashedDocument) -> Manifest:
    """A manifest recording each file id as the upload of the given document."""
    return Manifest(agent_id="agent-1", files={file_id: doc.entry() for file_id, doc in files.items()})


def test_hashed_document_entry_records_name_hash_size_location_and_version() -> None:
    entry = document("guides/a.md", HASH_B, size=7).entry()
    assert entry == ManifestEntry("a.md", HASH_B, 7, "file:///kb/guides/a.md", "1")


def test_empty_agent_gets_every_document_as_an_add() -> None:
    documents = [document("a.md"), document("sub/b.md", HASH_B)]
    plan = plan_sync(documents, [], Manifest())
    assert [upload.source for upload in plan.uploads] == documents
    assert plan.adds == plan.uploads
    assert all(upload.action == "add" and upload.superseded == () for upload in plan.uploads)
    assert plan.replaces == []
    assert plan.keeps == []
    assert plan.removals == []
    assert plan.adopted == {}
    assert plan.agent_files == 0
    assert plan.delete_ratio == 0.0
    assert plan.changes_anything


def test_same_name_same_hash_and_done_is_kept_without_upload() -> None:
    doc = document("a.md")
    existing = agent_file("f1", "a.md")
    plan = plan_sync([doc], [existing], manifest_of(f1=doc))
    assert plan.uploads == []
    assert plan.keeps == [Keep(doc, existing, ())]
    assert plan.removals == []
    assert not plan.changes_anything


def test_processing_copy_with_the_same_hash_is_kept() -> None:
    doc = document("a.md")
    existing = agent_file("f1", "a.md", status="processing")
    plan = plan_sync([doc], [existing], manifest_of(f1=doc))
    assert plan.uploads == []
    assert [keep.agent_file for keep in plan.keeps] == [existing]


def test_document_is_matched_by_base_name_only() -> None:
    doc = document("deep/folder/a.md")
    existing = agent_file("f1", "a.md")
    plan = plan_sync([doc], [existing], manifest_of(f1=doc))
    assert [keep.agent_file.id for keep in plan.keeps] == ["f1"]


def test_changed_hash_is_a_replace_superseding_the_old_copy() -> None:
    old = agent_file("f1", "a.md")
    new = document("a.md", HASH_B)
    plan = plan_sync([new], [old], manifest_of(f1=document("a.md", HASH_A)))
    assert plan.uploads == [Upload(new, (old,))]
    assert plan.uploads[0].action == "replace"
    assert plan.replaces == plan.uploads
    assert plan.adds == []
    assert plan.keeps == []
    assert plan.removals == []
    assert plan.delete_ratio == 0.0
    assert plan.changes_anything


def test_file_unknown_to_the_manifest_is_replaced() -> None:
    doc = document("a.md")
    unknown = agent_file("f-unknown", "a.md")
    plan = plan_sync([doc], [unknown], manifest_of(other=doc))
    assert plan.uploads == [Upload(doc, (unknown,))]
    assert plan.uploads[0].action == "replace"
    assert plan.keeps == []


def test_empty_manifest_replaces_every_existing_file() -> None:
    docs = [document("a.md"), document("b.md", HASH_B)]
    files = [agent_file("f1", "a.md"), agent_file("f2", "b.md")]
    plan = plan_sync(docs, files, Manifest())
    assert [upload.action for upload in plan.uploads] == ["replace", "replace"]
    assert [upload.superseded for upload in plan.uploads] == [(files[0],), (files[1],)]


@pytest.mark.parametrize("status", ["failed", None])
def test_same_hash_but_not_usable_status_is_uploaded_again(status: VectorStoreStatus | None) -> None:
    doc = document("a.md")
    broken = agent_file("f1", "a.md", status=status)
    plan = plan_sync([doc], [broken], manifest_of(f1=doc))
    assert plan.keeps == []
    assert plan.uploads == [Upload(doc, (broken,))]
    assert plan.uploads[0].action == "replace"


def test_done_copy_is_preferred_over_a_newer_processing_copy() -> None:
    doc = document("a.md")
    done = agent_file("f-done", "a.md", status="done", created_at="2026-01-01T00:00:00Z")
    processing = agent_file("f-proc", "a.md", status="processing", created_at="2026-03-01T00:00:00Z")
    manifest = manifest_of(**{"f-done": doc, "f-proc": doc})
    for order in ([done, processing], [processing, done]):
        plan = plan_sync([doc], order, manifest)
        assert plan.uploads == []
        assert len(plan.keeps) == 1
        assert plan.keeps[0].agent_file == done
        assert plan.keeps[0].superseded == (processing,)
        assert plan.changes_anything


def test_newest_copy_is_kept_among_equally_usable_ones() -> None:
    doc = document("a.md")
    older = agent_file("f-old", "a.md", created_at="2026-01-01T00:00:00Z")
    newer = agent_file("f-new", "a.md", created_at="2026-02-01T00:00:00Z")
    manifest = manifest_of(**{"f-old": doc, "f-new": doc})
    for order in ([older, newer], [newer, older]):
        plan = plan_sync([doc], order, manifest)
        assert plan.keeps == [Keep(doc, newer, (older,))]
        assert plan.removals == []


def test_kept_copy_supersedes_stale_and_unknown_copies_of_the_same_name() -> None:
    doc = document("a.md")
    good = agent_file("f-good", "a.md")
    stale = agent_file("f-stale", "a.md")
    unknown = agent_file("f-unknown", "a.md")
    manifest = manifest_of(**{"f-good": doc, "f-stale": document("a.md", HASH_B)})
    plan = plan_sync([doc], [stale, good, unknown], manifest)
    assert plan.uploads == []
    assert plan.keeps == [Keep(doc, good, (stale, unknown))]
    assert plan.removals == []
    assert plan.delete_ratio == 0.0


def test_file_no_document_names_is_removed_and_counted_in_delete_ratio() -> None:
    doc = document("a.md")
    kept = agent_file("f1", "a.md")
    gone_1 = agent_file("f2", "gone.md")
    gone_2 = agent_file("f3", "other.pdf")
    plan = plan_sync([doc], [kept, gone_1, gone_2], manifest_of(f1=doc))
    assert plan.removals == [gone_1, gone_2]
    assert plan.agent_files == 3
    assert plan.delete_ratio == pytest.approx(2 / 3)
    assert plan.changes_anything


def test_superseded_copies_do_not_count_towards_delete_ratio() -> None:
    doc_a = document("a.md")
    doc_b = document("b.md", HASH_B)
    files = [
        agent_file("a-1", "a.md"),
        agent_file("a-2", "a.md", created_at="2026-02-01T00:00:00Z"),
        agent_file("b-old", "b.md"),
        agent_file("gone", "gone.md"),
    ]
    manifest = manifest_of(**{"a-1": doc_a, "a-2": doc_a, "b-old": document("b.md", HASH_A)})
    plan = plan_sync([doc_a, doc_b], files, manifest)
    assert [keep.superseded for keep in plan.keeps] == [(files[0],)]
    assert [upload.superseded for upload in plan.uploads] == [(files[2],)]
    assert plan.removals == [files[3]]
    assert plan.delete_ratio == pytest.approx(1 / 4)


def test_everything_removed_when_no_document_is_left() -> None:
    files = [agent_file("f1", "a.md"), agent_file("f2", "b.md")]
    plan = plan_sync([], files, Manifest())
    assert plan.removals == files
    assert plan.delete_ratio == 1.0
    assert plan.uploads == []
    assert plan.keeps == []


def test_uploads_and_keeps_follow_source_order() -> None:
    docs = [document("c.md"), document("a.md"), document("b.md")]
    files = [agent_file("fa", "a.md"), agent_file("fc", "c.md")]
    plan = plan_sync(docs, files, manifest_of(fa=docs[1], fc=docs[0]))
    assert [keep.source.document.name for keep in plan.keeps] == ["c.md", "a.md"]
    assert [upload.source.document.name for upload in plan.uploads] == ["b.md"]


def test_pending_upload_a_killed_run_left_is_adopted_and_kept() -> None:
    doc = document("a.md")
    earlier = agent_file("f-earlier", "b.md")
    orphan = agent_file("f-new", "a.md")
    manifest = Manifest(agent_id="agent-1", pending={"a.md": doc.entry()}, seen=["f-earlier"])
    plan = plan_sync([doc], [earlier, orphan], manifest)
    assert plan.adopted == {"f-new": doc.entry()}
    assert plan.uploads == []
    assert plan.keeps == [Keep(doc, orphan, ())]
    assert plan.removals == [earlier]


def test_adopted_file_with_another_hash_is_replaced() -> None:
    doc = document("a.md", HASH_B)
    orphan = agent_file("f-new", "a.md")
    manifest = Manifest(pending={"a.md": document("a.md", HASH_A).entry()}, seen=[])
    plan = plan_sync([doc], [orphan], manifest)
    assert "f-new" in plan.adopted
    assert plan.uploads == [Upload(doc, (orphan,))]


def test_file_already_seen_before_pending_was_saved_is_not_adopted() -> None:
    doc = document("a.md")
    older = agent_file("f-old", "a.md")
    manifest = Manifest(pending={"a.md": doc.entry()}, seen=["f-old"])
    plan = plan_sync([doc], [older], manifest)
    assert plan.adopted == {}
    assert plan.keeps == []
    assert plan.uploads == [Upload(doc, (older,))]


def test_file_recorded_in_the_manifest_is_not_adopted() -> None:
    doc = document("a.md")
    recorded = agent_file("f1", "a.md")
    manifest = Manifest(files={"f1": doc.entry()}, pending={"a.md": doc.entry()}, seen=[])
    plan = plan_sync([doc], [recorded], manifest)
    assert plan.adopted == {}
    assert [keep.agent_file for keep in plan.keeps] == [recorded]


def test_file_with_another_name_than_the_pending_ones_is_not_adopted() -> None:
    doc = document("a.md")
    manifest = Manifest(pending={"a.md": doc.entry()}, seen=[])
    plan = plan_sync([doc], [agent_file("f-x", "x.md")], manifest)
    assert plan.adopted == {}


def test_nothing_is_adopted_without_pending() -> None:
    doc = document("a.md")
    new_file = agent_file("f-new", "a.md")
    plan = plan_sync([doc], [new_file], Manifest(seen=[]))
    assert plan.adopted == {}
    assert plan.uploads == [Upload(doc, (new_file,))]


def test_changes_anything_is_false_when_all_are_kept_without_superseded() -> None:
    docs = [document("a.md"), document("b.md", HASH_B)]
    files = [agent_file("fa", "a.md"), agent_file("fb", "b.md", status="processing")]
    plan = plan_sync(docs, files, manifest_of(fa=docs[0], fb=docs[1]))
    assert len(plan.keeps) == 2
    assert not plan.changes_anything
    assert plan.delete_ratio == 0.0


def test_plan_properties_on_a_hand_built_plan() -> None:
    doc = document("a.md")
    old = agent_file("f1", "a.md")
    add = Upload(doc)
    replace = Upload(doc, (old,))
    plan = Plan(uploads=[add, replace], agent_files=4, removals=[old])
    assert plan.adds == [add]
    assert plan.replaces == [replace]
    assert plan.delete_ratio == 0.25
    assert Plan().changes_anything is False
    assert Plan(keeps=[Keep(doc, old, (old,))]).changes_anything is True
