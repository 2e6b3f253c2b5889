"""The store: intake, the event log, projections, privacy at rest, duplicates, roles."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from citycheck.listen.domain import Channel, EventKind, Status, TransitionError, derive_state
from citycheck.listen.store import Intake, Staff, utc

DISPATCHER = Staff("d1", "dispatcher", None)
SUPERVISOR = Staff("s1", "supervisor", None)
NE = Staff("ne", "unit", "jd_ne")
SW = Staff("sw", "unit", "jd_sw")
# inside the demo north-east square (116.35..116.37, 39.96..39.98)
LAT, LON = 39.97, 116.36


def test_schema_is_made_by_migrations(hotline):
    with hotline.engine.connect() as c:
        rev = c.execute(text("select version_num from alembic_version")).scalar()
    assert rev == "0002"


def test_store_is_durable_before_ack(hotline):
    """SQLite in WAL with synchronous=FULL; PostgreSQL with fsync and synchronous commit on."""
    with hotline.engine.connect() as c:
        if hotline.engine.dialect.name == "sqlite":
            assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert c.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        else:
            assert c.exec_driver_sql("SHOW fsync").scalar() == "on"
            assert c.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"


def test_submit_dispatches_by_place_and_category(hotline):
    o = hotline.submit(Intake("小区门口路面塌陷", service_code="urban", lat=LAT, lon=LON))
    assert o.status == Status.DISPATCHED.value
    assert o.lead_unit == "jd_ne"  # street-led service: the street office containing the point
    assert o.assisting_units == ["dept:housing"]
    o2 = hotline.submit(Intake("社保转移", service_code="labour", lat=LAT, lon=LON))
    assert o2.lead_unit == "dept:hrss" and o2.assisting_units == ["jd_ne"]
    o3 = hotline.submit(Intake("社保转移", service_code="labour"))  # no location
    assert o3.lead_unit == "dept:hrss" and o3.assisting_units == []
    kinds = [e.kind for e in hotline.events(o.id)]
    assert kinds == [EventKind.ACCEPT, EventKind.CLASSIFY, EventKind.DISPATCH]


def test_personal_fields_encrypted_at_rest_and_redacted(hotline):
    o = hotline.submit(
        Intake(
            "我叫王小明，电话13912345678，楼下噪音",
            service_code="environment",
            name="王小明",
            phone="13912345678",
            address="某路1号",
        )
    )
    with hotline.engine.connect() as c:
        row = c.execute(text("select * from orders where id=:i"), {"i": o.id}).mappings().one()
    blob = " ".join(str(v) for v in row.values())
    assert "13912345678" not in blob and "王小明" not in blob and "某路1号" not in blob
    assert row["description_public"] == "我叫[name]，电话[phone]，楼下噪音"
    assert hotline.personal(o.id, DISPATCHER)["phone"] == "13912345678"


def test_unit_cannot_see_or_act_on_other_units_orders(hotline):
    o = hotline.submit(Intake("路灯坏了", service_code="urban", lat=LAT, lon=LON))
    with pytest.raises(KeyError):
        hotline.act(o.id, EventKind.SIGN, SW)
    with pytest.raises(KeyError):
        hotline.personal(o.id, SW)
    assert [x.id for x in hotline.search(staff=SW)] == []
    with pytest.raises(PermissionError):
        hotline.act(o.id, EventKind.DISPATCH, NE, unit="jd_ne")  # units do not dispatch
    hotline.act(o.id, EventKind.SIGN, NE)
    assert hotline.get(o.id).status == Status.SIGNED.value


def test_full_loop_with_return_reopen_and_log_consistency(hotline):
    o = hotline.submit(Intake("路灯坏了", service_code="urban", lat=LAT, lon=LON))
    hotline.act(o.id, EventKind.RETURN, NE, reason="该路段属西南街道")
    assert hotline.get(o.id).status == Status.RETURNED.value
    hotline.act(o.id, EventKind.DISPATCH, DISPATCHER, unit="jd_sw")
    with pytest.raises(TransitionError):
        hotline.act(o.id, EventKind.CLOSE, DISPATCHER)
    for kind, kw in [
        (EventKind.SIGN, {}),
        (EventKind.CONTACT, {}),
        (EventKind.REPLY, {"data": {"reply": "已修复，联系电话13800000000"}}),
    ]:
        hotline.act(o.id, kind, SW, **kw)
    hotline.act(o.id, EventKind.SUPERVISE, SUPERVISOR, data={"approved": True})
    hotline.act(o.id, EventKind.CLOSE, DISPATCHER)
    hotline.act(o.id, EventKind.CALLBACK, DISPATCHER, data={"reached": True})
    hotline.act(o.id, EventKind.RATE, DISPATCHER, data={"score": 2})
    hotline.act(o.id, EventKind.REOPEN, DISPATCHER, reason="灯还是不亮")
    row = hotline.get(o.id)
    assert row.status == Status.DISPATCHED.value and row.lead_unit == "jd_sw"
    st = hotline.state(o.id)
    assert st.returns == (("jd_ne", "该路段属西南街道"),) and st.reopen_count == 1
    assert hotline.verify_log() == []
    assert len(hotline.events(o.id)) == row.n_events == 13


def test_duplicates_are_linked_and_close_with_master(hotline):
    t = datetime(2025, 6, 3, 9, tzinfo=UTC)
    a = hotline.submit(
        Intake("小区门口垃圾堆积发臭", service_code="environment", lat=LAT, lon=LON, requested_at=t)
    )
    b = hotline.submit(
        Intake(
            "小区门口垃圾堆积很臭",
            service_code="environment",
            lat=LAT + 0.0003,
            lon=LON,
            requested_at=t + timedelta(hours=5),
        )
    )
    far = hotline.submit(
        Intake(
            "小区门口垃圾堆积发臭",
            service_code="environment",
            lat=LAT + 0.01,
            lon=LON,
            requested_at=t + timedelta(hours=5),
        )
    )
    other = hotline.submit(
        Intake(
            "学校门口拥堵",
            service_code="environment",
            lat=LAT,
            lon=LON,
            requested_at=t + timedelta(hours=6),
        )
    )
    assert hotline.get(b.id).status == Status.LINKED.value
    assert hotline.get(b.id).duplicate_of == a.id
    assert hotline.get(far.id).duplicate_of is None
    assert hotline.get(other.id).duplicate_of is None
    assert hotline.get(a.id).duplicates == 1  # the count raises the case's priority
    lead = Staff("u", "unit", hotline.get(a.id).lead_unit)
    hotline.act(a.id, EventKind.SIGN, lead)
    hotline.act(a.id, EventKind.REPLY, lead, data={"reply": "已清运"})
    hotline.act(a.id, EventKind.SUPERVISE, SUPERVISOR, data={"approved": True})
    hotline.act(a.id, EventKind.CLOSE, DISPATCHER)
    assert hotline.get(b.id).status == Status.CLOSED.value
    # each caller is still called back and rates
    hotline.act(b.id, EventKind.CALLBACK, DISPATCHER)
    hotline.act(b.id, EventKind.RATE, DISPATCHER, data={"score": 4})
    assert hotline.state(b.id).satisfied is True
    assert hotline.verify_log() == []


def test_overdue_queue_and_escalation(hotline):
    t = datetime(2025, 3, 3, 1, tzinfo=UTC)  # Monday 09:00 in Shanghai
    o = hotline.submit(
        Intake("咨询入学", service_code="education", requested_at=t, channel=Channel.WEB)
    )
    # consult/normal: close in 3 working days → Thursday 6 March 23:59:59
    # sign and first-contact clocks (1 working day from dispatch) ran out on Tuesday
    rows = hotline.overdue(datetime(2025, 3, 6, 12, tzinfo=UTC))
    assert [(r["id"], r["overdue"], r["level"]) for r in rows] == [(o.id, ["contact", "sign"], 1)]
    late = datetime(2025, 3, 14, 3, tzinfo=UTC)  # 6 working days late
    rows = hotline.overdue(late)
    assert [r["id"] for r in rows] == [o.id] and rows[0]["level"] == 3
    assert hotline.escalate_overdue(late) == 3
    assert hotline.get(o.id).escalation == 3
    assert [e.data["level"] for e in hotline.events(o.id) if e.kind is EventKind.ESCALATE] == [
        1,
        2,
        3,
    ]
    assert hotline.escalate_overdue(late) == 0


def test_api_keys_and_staff_tokens_are_stored_hashed(hotline):
    key = hotline.create_api_key("app")
    tok = hotline.create_staff("alice", "unit", "jd_ne")
    with hotline.engine.connect() as c:
        dump = str(c.execute(text("select * from api_keys")).all()) + str(
            c.execute(text("select * from staff_users")).all()
        )
    assert key not in dump and tok not in dump
    assert hotline.check_api_key(key) and not hotline.check_api_key(key + "x")
    assert hotline.staff_for_token(tok) == Staff("alice", "unit", "jd_ne")
    with pytest.raises(ValueError, match="role"):
        hotline.create_staff("bob", "mayor")


def test_log_derivation_matches_projection_after_many_actions(hotline):
    ids = [hotline.submit(Intake(f"问题{i}", service_code="labour")).id for i in range(5)]
    for i in ids[:3]:
        hotline.act(i, EventKind.SIGN, Staff("u", "unit", "dept:hrss"))
    for i in ids:
        assert derive_state(hotline.events(i)).status.value == hotline.get(i).status
    assert hotline.verify_log() == []


def test_concurrent_duplicates_of_one_master_all_link(hotline):
    import threading

    t = datetime(2025, 6, 3, 9, tzinfo=UTC)
    master = hotline.submit(
        Intake("路口积水很深无法通行", service_code="urban", lat=LAT, lon=LON, requested_at=t)
    )
    errors: list[Exception] = []

    def dup(i: int) -> None:
        try:
            hotline.submit(
                Intake(
                    "路口积水很深无法通行了",
                    service_code="urban",
                    lat=LAT,
                    lon=LON,
                    requested_at=t + timedelta(minutes=i + 1),
                )
            )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=dup, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    assert hotline.get(master.id).duplicates == 8
    notes = [e for e in hotline.events(master.id) if e.kind is EventKind.NOTE]
    assert len(notes) == 8
    assert hotline.verify_log() == []


def test_duplicates_of_a_master_in_the_same_batch_are_noted_in_order(hotline):
    """A master inserted earlier in the same transaction gets its notes numbered after its own
    events, in the order of its duplicates, with ``updated_at`` the last note's time; masters
    from before get theirs after whatever they already had."""
    t = datetime(2025, 6, 3, 9, tzinfo=UTC)
    old = hotline.submit(
        Intake("路口积水很深无法通行", service_code="urban", lat=LAT, lon=LON, requested_at=t)
    )
    hotline.act(old.id, EventKind.NOTE, Staff("d", "dispatcher", None), reason="已电话联系")
    far = (LAT + 0.01, LON)
    batch = [
        Intake("井盖丢失很危险", service_code="urban", lat=far[0], lon=far[1], requested_at=t),
        Intake(
            "路口积水很深无法通行了",
            service_code="urban",
            lat=LAT,
            lon=LON,
            requested_at=t + timedelta(minutes=1),
        ),
        Intake(
            "井盖丢失很危险啊",
            service_code="urban",
            lat=far[0],
            lon=far[1],
            requested_at=t + timedelta(minutes=2),
        ),
        Intake(
            "井盖丢失了很危险",
            service_code="urban",
            lat=far[0],
            lon=far[1],
            requested_at=t + timedelta(minutes=3),
        ),
    ]
    new_master, dup_old, dup1, dup2 = hotline.submit_many(batch)
    assert [o.duplicate_of for o in (new_master, dup_old, dup1, dup2)] == [
        None,
        old.id,
        new_master.id,
        new_master.id,
    ]
    events = hotline.events(new_master.id)
    assert [e.kind for e in events][-2:] == [EventKind.NOTE, EventKind.NOTE]
    assert [e.data["linked"] for e in events[-2:]] == [dup1.id, dup2.id]
    row = hotline.get(new_master.id)
    assert row.duplicates == 2 and row.n_events == len(events)
    assert utc(row.updated_at) == t + timedelta(minutes=3)  # SQLite returns it naive
    old_events = hotline.events(old.id)
    assert [e.kind for e in old_events][-2:] == [EventKind.NOTE, EventKind.NOTE]
    assert old_events[-2].reason == "已电话联系" and old_events[-1].data == {"linked": dup_old.id}
    assert hotline.get(old.id).duplicates == 1 and hotline.get(old.id).n_events == len(old_events)
    assert hotline.verify_log() == []


def _deadlocks(h) -> int | None:
    """PostgreSQL's count of deadlocks detected in this database (None on SQLite)."""
    if h.engine.dialect.name != "postgresql":
        return None
    with h.engine.connect() as c:
        c.exec_driver_sql("select pg_stat_clear_snapshot()")
        return c.exec_driver_sql(
            "select deadlocks from pg_stat_database where datname = current_database()"
        ).scalar()


def test_several_writers_link_to_shared_masters_without_deadlock(settings, caplog):
    """Four group-commit writers, batches linking to the same three masters in opposite orders.

    The masters are locked FOR NO KEY UPDATE in id order at the end of each batch; before, four
    writers deadlocked (KEY SHARE from the duplicates' foreign key, then FOR UPDATE).  A batch
    that fails is retried one intake at a time, which would hide a deadlock from the results,
    so the test also asserts that no batch failed and PostgreSQL counted no deadlock.
    """
    import logging
    import threading

    from citycheck.listen.store import Hotline

    h = Hotline(settings.model_copy(update={"group_commit": True, "group_commit_writers": 4}))
    t = datetime(2025, 6, 3, 9, tzinfo=UTC)
    # three masters 0.01 degrees (about 1 km) apart, all inside the demo north-east square
    spots = [(39.962, 116.352), (39.972, 116.362), (39.978, 116.368)]
    masters = [
        h.submit(Intake("路口积水很深无法通行", service_code="urban", lat=y, lon=x, requested_at=t))
        for y, x in spots
    ]
    before = _deadlocks(h)
    errors: list[Exception] = []
    start = threading.Barrier(12)

    def caller(i: int) -> None:
        order = [0, 1, 2] if i % 2 else [2, 1, 0]
        start.wait()
        for k, m in enumerate(order):
            y, x = spots[m]
            try:
                h.submit(
                    Intake(
                        "路口积水很深无法通行了",
                        service_code="urban",
                        lat=y,
                        lon=x,
                        requested_at=t + timedelta(minutes=1 + i * 3 + k),
                    )
                )
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)

    with caplog.at_level(logging.WARNING, logger="citycheck.listen.store"):
        threads = [threading.Thread(target=caller, args=(i,)) for i in range(12)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
    assert errors == []
    assert [r.getMessage() for r in caplog.records if "group commit" in r.getMessage()] == []
    assert _deadlocks(h) == before
    for m in masters:
        assert h.get(m.id).duplicates == 12
        notes = [e for e in h.events(m.id) if e.kind is EventKind.NOTE]
        assert sorted(e.data["linked"] for e in notes) == sorted(
            o.id for o in h.search(limit=100) if o.duplicate_of == m.id
        )
    assert h.verify_log() == []
    h.close()


def test_group_commit_isolates_a_bad_intake_and_acks_after_commit(settings):
    import threading

    from citycheck.listen.store import Hotline

    h = Hotline(settings.model_copy(update={"group_commit": True}))
    results: dict[int, object] = {}

    def one(i: int) -> None:
        intake = Intake(f"问题 {i}", service_code="labour")
        if i == 5:
            intake.urgency = "bogus"  # type: ignore[assignment]  # fails inside the batch
        try:
            results[i] = h.submit(intake).id
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert isinstance(results.pop(5), AttributeError)
    assert all(isinstance(v, int) for v in results.values())
    # acknowledged means committed: a second, independent store sees every acknowledged order
    other = Hotline(settings.model_copy(update={"group_commit": False}))
    assert sorted(o.id for o in other.search(limit=100)) == sorted(results.values())
    other.close()
    h.close()


def test_verify_log_reports_a_broken_log_or_projection(hotline):
    """The consistency check can fail: a projection one event short, a projection whose status
    the log does not give, a gap in an order's event numbers are each reported by order id."""
    t = datetime(2025, 6, 3, 9, tzinfo=UTC)
    master = hotline.submit(
        Intake("路口积水很深无法通行", service_code="urban", lat=LAT, lon=LON, requested_at=t)
    )
    hotline.submit(
        Intake(
            "路口积水很深无法通行了",
            service_code="urban",
            lat=LAT,
            lon=LON,
            requested_at=t + timedelta(minutes=5),
        )
    )
    other = hotline.submit(Intake("社保转移", service_code="labour"))
    gap = hotline.submit(Intake("楼下噪音", service_code="environment", lat=LAT, lon=LON))
    assert hotline.verify_log() == []
    with hotline.engine.begin() as c:
        c.execute(text("update orders set n_events = n_events - 1 where id = :i"), {"i": master.id})
        c.execute(text("update orders set status = 'closed' where id = :i"), {"i": other.id})
        c.execute(text("delete from order_events where order_id = :i and seq = 2"), {"i": gap.id})
    problems = hotline.verify_log()
    assert f"order {master.id}: 4 events, projection 3" in problems
    assert any(p.startswith(f"order {other.id}: projection closed/") for p in problems)
    assert f"order {gap.id}: event numbers [1, 3]" in problems
    assert len(problems) == 3


def test_verify_log_reads_one_snapshot_while_writers_run(hotline):
    """verify_log run while duplicates are being noted on their masters never reports a problem:
    it reads orders and events in one statement (reading the projection and the events apart
    reported 'N events, projection N-1' for masters noted in between, under the load bench)."""
    import threading

    t = datetime(2025, 6, 3, 9, tzinfo=UTC)
    texts = ["路口积水很深无法通行", "小区垃圾桶满了没人清理", "楼下烧烤油烟很大"]
    codes = ["urban", "environment", "environment"]
    masters = [
        hotline.submit(Intake(words, service_code=code, lat=LAT, lon=LON, requested_at=t)).id
        for words, code in zip(texts, codes, strict=True)
    ]
    done = threading.Event()
    errors: list[Exception] = []

    def write() -> None:
        try:
            for i in range(90):
                k = i % 3
                hotline.submit(
                    Intake(
                        texts[k] + "了",
                        service_code=codes[k],
                        lat=LAT,
                        lon=LON,
                        requested_at=t + timedelta(minutes=i + 1),
                    )
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    seen: list[str] = []
    passes = 0
    while not done.is_set():
        seen += hotline.verify_log()
        passes += 1
    writer.join()
    assert errors == []
    assert passes >= 2
    assert seen == []
    assert sum(hotline.get(i).duplicates for i in masters) == 90
    assert hotline.verify_log() == []
