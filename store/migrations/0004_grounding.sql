-- 0004: the grounding share of a self-edit: the fraction of its content words (names,
-- numbers, content words) that appear in the passage it was written from, as
-- engine/grounding reckons it. A reading aid, not a verdict. NULL where there is no
-- passage to ground in (ARC's JSON edits, baselines, empty edits) and for every
-- candidate stored before this migration.

ALTER TABLE candidates ADD COLUMN grounding REAL;
