"""The recipes of docs/stores.md for state on the application's own rows, on SQLite and
PostgreSQL."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

sa = pytest.importorskip("sqlalchemy")

from sqlalchemy.orm import (  # noqa: E402 - after the importorskip
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
)
from sqlalchemy.orm.exc import StaleDataError  # noqa: E402

from statemachines_orchestrator import Orchestrator  # noqa: E402

from .backends import postgres_url  # noqa: E402
from .shop import OrderMachine, PaymentMachine, Shop  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


class Checkout(Orchestrator):
    """Machines built on an ORM row, each with its own state column."""

    order: OrderMachine
    payment: PaymentMachine


def _models(suffix: str) -> tuple[Any, Any, Any]:
    class Base(DeclarativeBase):
        pass

    class OrderRow(Base):
        __tablename__ = f"orders_{suffix}"
        id: Mapped[int] = mapped_column(primary_key=True)
        order_state: Mapped[str] = mapped_column(sa.String(20), default="created")
        payment_state: Mapped[str] = mapped_column(sa.String(20), default="pending")
        revision: Mapped[int] = mapped_column(default=1)
        __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 - SQLAlchemy's API

    class Purchase(Base):
        __tablename__ = f"purchases_{suffix}"
        id: Mapped[int] = mapped_column(primary_key=True)
        workflow: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
        revision: Mapped[int] = mapped_column(default=1)
        __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012 - SQLAlchemy's API

    return Base, OrderRow, Purchase


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'app.db'}"
    else:
        url = "postgresql+psycopg://" + postgres_url().split("://", 1)[1]
    created = sa.create_engine(url)
    try:
        yield created
    finally:
        created.dispose()


@pytest.fixture
def models(engine: Any) -> Iterator[tuple[Any, Any]]:
    base, order_row, purchase = _models(uuid.uuid4().hex[:8])
    base.metadata.create_all(engine)
    try:
        yield order_row, purchase
    finally:
        base.metadata.drop_all(engine)


def _checkout_for(row: Any) -> Checkout:
    return Checkout(
        order=OrderMachine(model=row, state_field="order_state"),
        payment=PaymentMachine(model=row, state_field="payment_state"),
    )


def test_machines_on_one_orm_row_keep_their_states_in_its_columns(
    engine: Any, models: tuple[Any, Any]
) -> None:
    order_row, _ = models
    with Session(engine) as session, session.begin():
        session.add(order_row(id=1))
    with Session(engine) as session, session.begin():
        _checkout_for(session.get(order_row, 1)).order.place(total=120)
    with Session(engine) as session:
        row = session.get(order_row, 1)
        assert (row.order_state, row.payment_state, row.revision) == ("paid", "authorized", 2)
        checkout = _checkout_for(row)
        assert checkout.order.current_state_value == "paid"


def test_the_version_column_catches_the_second_of_two_writers(
    engine: Any, models: tuple[Any, Any]
) -> None:
    order_row, _ = models
    with Session(engine) as session, session.begin():
        session.add(order_row(id=1))
    first, second = Session(engine), Session(engine)
    try:
        mine, theirs = first.get(order_row, 1), second.get(order_row, 1)
        _checkout_for(mine).order.place(total=5000)  # declined: cancelled
        _checkout_for(theirs).order.place(total=10)  # paid
        second.commit()
        with pytest.raises(StaleDataError):
            first.commit()
        first.rollback()
    finally:
        first.close()
        second.close()
    with Session(engine) as session:
        row = session.get(order_row, 1)
        assert (row.order_state, row.payment_state, row.revision) == ("paid", "authorized", 2)


def test_a_snapshot_in_a_json_column_of_the_applications_table(
    engine: Any, models: tuple[Any, Any]
) -> None:
    _, purchase = models
    with Session(engine) as session, session.begin():
        session.add(purchase(id=7, workflow=Shop().snapshot()))
    with Session(engine) as session, session.begin():
        row = session.get(purchase, 7)
        shop = Shop.restore(row.workflow)
        shop.order.place(total=300)
        row.workflow = shop.snapshot()
    with Session(engine) as session:
        row = session.get(purchase, 7)
        restored = Shop.restore(row.workflow)
        assert restored.order.current_state_value == "paid"
        assert restored.order.total == 300
        assert row.revision == 2
