"""initial archive schema

Revision ID: 0001
Revises: 
Create Date: the first release of the desk
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('skipped', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('blobs',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('stored_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('builds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('submissions', sa.Text(), nullable=False),
    sa.Column('forced', sa.Boolean(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('has_pdf', sa.Boolean(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('expected',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('department', sa.Text(), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('department')
    )
    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('original_name', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('department', sa.Text(), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=True),
    sa.Column('errors', sa.Integer(), nullable=False),
    sa.Column('warnings', sa.Integer(), nullable=False),
    sa.Column('residues', sa.Integer(), nullable=False),
    sa.Column('infos', sa.Integer(), nullable=False),
    sa.Column('tableset', sa.String(length=64), nullable=True),
    sa.Column('tableset_version', sa.String(length=32), nullable=True),
    sa.Column('rulebook_version', sa.String(length=32), nullable=True),
    sa.Column('catalogue_version', sa.String(length=64), nullable=True),
    sa.Column('xlbudget_version', sa.String(length=64), nullable=True),
    sa.Column('cache_key', sa.String(length=64), nullable=True),
    sa.Column('from_archive', sa.Boolean(), nullable=False),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('report', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['batch_id'], ['batches.id'], ),
    sa.ForeignKeyConstraint(['sha256'], ['blobs.sha256'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_submissions_batch_id'), 'submissions', ['batch_id'], unique=False)
    op.create_index(op.f('ix_submissions_cache_key'), 'submissions', ['cache_key'], unique=False)
    op.create_index(op.f('ix_submissions_department'), 'submissions', ['department'], unique=False)
    op.create_index(op.f('ix_submissions_sha256'), 'submissions', ['sha256'], unique=False)
    op.create_index(op.f('ix_submissions_state'), 'submissions', ['state'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_submissions_state'), table_name='submissions')
    op.drop_index(op.f('ix_submissions_sha256'), table_name='submissions')
    op.drop_index(op.f('ix_submissions_department'), table_name='submissions')
    op.drop_index(op.f('ix_submissions_cache_key'), table_name='submissions')
    op.drop_index(op.f('ix_submissions_batch_id'), table_name='submissions')
    op.drop_table('submissions')
    op.drop_table('expected')
    op.drop_table('builds')
    op.drop_table('blobs')
    op.drop_table('batches')
