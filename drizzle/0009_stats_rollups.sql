CREATE TABLE "activity_week_rollups" (
	"workspace_id" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	"week_start" date NOT NULL,
	"did_days" integer[] NOT NULL,
	"completed_sessions" integer DEFAULT 0 NOT NULL,
	"unfinished_sessions" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "activity_week_rollups_workspace_id_week_start_user_id_pk" PRIMARY KEY("workspace_id","week_start","user_id")
);
--> statement-breakpoint
CREATE TABLE "nudge_week_rollups" (
	"workspace_id" bigint NOT NULL,
	"user_id" bigint NOT NULL,
	"week_start" date NOT NULL,
	"sent" integer DEFAULT 0 NOT NULL,
	"done" integer DEFAULT 0 NOT NULL,
	"snoozed" integer DEFAULT 0 NOT NULL,
	"skipped" integer DEFAULT 0 NOT NULL,
	"stopped" integer DEFAULT 0 NOT NULL,
	"ignored" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "nudge_week_rollups_workspace_id_week_start_user_id_pk" PRIMARY KEY("workspace_id","week_start","user_id")
);
--> statement-breakpoint
ALTER TABLE "activity_week_rollups" ADD CONSTRAINT "activity_week_rollups_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activity_week_rollups" ADD CONSTRAINT "activity_week_rollups_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "nudge_week_rollups" ADD CONSTRAINT "nudge_week_rollups_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "nudge_week_rollups" ADD CONSTRAINT "nudge_week_rollups_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "activity_week_rollups_user_idx" ON "activity_week_rollups" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "nudge_week_rollups_user_idx" ON "nudge_week_rollups" USING btree ("user_id");--> statement-breakpoint
-- The rollups are kept by triggers rather than by the code that writes events: a trigger sees every write,
-- including bulk jobs (nudge claims, retention), foreign-key cascades ("forget me", admin erasure, workspace
-- removal) and late writes for past weeks, in the same transaction as the write. docs/stats-rollups.md explains.
-- A timezone name PostgreSQL does not know falls back to UTC (the stats view then reads the events instead).
CREATE FUNCTION stats_rollup_zone(tz text) RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
  PERFORM now() AT TIME ZONE tz;
  RETURN tz;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN 'UTC';
END $$;
--> statement-breakpoint
-- The rows a statement changed, signed: +1 for new versions, -1 for old ones (an update is both).
CREATE FUNCTION stats_rollup_changes(op text, cols text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE op
    WHEN 'INSERT' THEN format('SELECT %s, 1 AS sign FROM new_rows', cols)
    WHEN 'DELETE' THEN format('SELECT %s, -1 AS sign FROM old_rows', cols)
    ELSE format('SELECT %s, 1 AS sign FROM new_rows UNION ALL SELECT %s, -1 AS sign FROM old_rows', cols, cols)
  END
$$;
--> statement-breakpoint
CREATE FUNCTION activity_week_rollups_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  empty_ws bigint[];
  empty_week date[];
  empty_user bigint[];
BEGIN
  EXECUTE format($q$
    WITH src AS MATERIALIZED (%s),
    zones AS (
      SELECT w.id, stats_rollup_zone(w.timezone) AS tz FROM workspaces w WHERE w.id IN (SELECT workspace_id FROM src)
    ),
    per_day AS (
      SELECT c.workspace_id, c.user_id, date_trunc('week', l.day)::date AS week_start, extract(isodow FROM l.day)::int AS dow,
        c.sign * ((c.kind = 'nudge' AND c.outcome = 'done') OR (c.kind = 'session' AND c.outcome = 'completed'))::int AS did,
        c.sign * (c.kind = 'session' AND c.outcome = 'completed')::int AS completed,
        c.sign * (c.kind = 'session' AND c.outcome <> 'completed')::int AS unfinished
      FROM src c
        JOIN zones z ON z.id = c.workspace_id
        -- A person deleted in this same statement (a cascade) has no rollups left to adjust.
        JOIN users u ON u.id = c.user_id
        CROSS JOIN LATERAL (SELECT (c.occurred_at AT TIME ZONE z.tz)::date AS day) AS l
    ),
    changed AS (
      SELECT workspace_id, user_id, week_start,
        array[coalesce(sum(did) FILTER (WHERE dow = 1), 0), coalesce(sum(did) FILTER (WHERE dow = 2), 0), coalesce(sum(did) FILTER (WHERE dow = 3), 0),
          coalesce(sum(did) FILTER (WHERE dow = 4), 0), coalesce(sum(did) FILTER (WHERE dow = 5), 0), coalesce(sum(did) FILTER (WHERE dow = 6), 0),
          coalesce(sum(did) FILTER (WHERE dow = 7), 0)]::int[] AS did_days,
        sum(completed)::int AS completed, sum(unfinished)::int AS unfinished
      FROM per_day GROUP BY 1, 2, 3
    ),
    upserted AS (
      INSERT INTO activity_week_rollups AS r (workspace_id, user_id, week_start, did_days, completed_sessions, unfinished_sessions)
      SELECT workspace_id, user_id, week_start, did_days, completed, unfinished FROM changed
      WHERE did_days <> '{0,0,0,0,0,0,0}' OR completed <> 0 OR unfinished <> 0
      ORDER BY workspace_id, week_start, user_id
      ON CONFLICT (workspace_id, week_start, user_id) DO UPDATE SET
        did_days = array[r.did_days[1] + excluded.did_days[1], r.did_days[2] + excluded.did_days[2],
          r.did_days[3] + excluded.did_days[3], r.did_days[4] + excluded.did_days[4], r.did_days[5] + excluded.did_days[5],
          r.did_days[6] + excluded.did_days[6], r.did_days[7] + excluded.did_days[7]],
        completed_sessions = r.completed_sessions + excluded.completed_sessions,
        unfinished_sessions = r.unfinished_sessions + excluded.unfinished_sessions
      RETURNING r.workspace_id, r.week_start, r.user_id,
        r.did_days = '{0,0,0,0,0,0,0}' AND r.completed_sessions = 0 AND r.unfinished_sessions = 0 AS empty
    )
    SELECT array_agg(workspace_id), array_agg(week_start), array_agg(user_id) FROM upserted WHERE empty
  $q$, stats_rollup_changes(TG_OP, 'workspace_id, user_id, kind, outcome, occurred_at'))
  INTO empty_ws, empty_week, empty_user;
  -- A week whose events are all gone (retention, a deletion) leaves no row behind.
  IF empty_ws IS NOT NULL THEN
    DELETE FROM activity_week_rollups r
    USING unnest(empty_ws, empty_week, empty_user) AS e(workspace_id, week_start, user_id)
    WHERE r.workspace_id = e.workspace_id AND r.week_start = e.week_start AND r.user_id = e.user_id
      AND r.did_days = '{0,0,0,0,0,0,0}' AND r.completed_sessions = 0 AND r.unfinished_sessions = 0;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION nudge_week_rollups_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  empty_ws bigint[];
  empty_week date[];
  empty_user bigint[];
BEGIN
  EXECUTE format($q$
    WITH src AS MATERIALIZED (%s),
    per_row AS (
      SELECT u.workspace_id, c.user_id, date_trunc('week', c.slot_at AT TIME ZONE z.tz)::date AS week_start, c.status, c.sign
      FROM src c
        JOIN users u ON u.id = c.user_id
        JOIN LATERAL (SELECT stats_rollup_zone(w.timezone) AS tz FROM workspaces w WHERE w.id = u.workspace_id) AS z ON true
      WHERE c.status IN ('sent', 'done', 'snoozed', 'skipped', 'stopped', 'ignored')
    ),
    changed AS (
      SELECT workspace_id, user_id, week_start,
        coalesce(sum(sign) FILTER (WHERE status = 'sent'), 0)::int AS sent,
        coalesce(sum(sign) FILTER (WHERE status = 'done'), 0)::int AS done,
        coalesce(sum(sign) FILTER (WHERE status = 'snoozed'), 0)::int AS snoozed,
        coalesce(sum(sign) FILTER (WHERE status = 'skipped'), 0)::int AS skipped,
        coalesce(sum(sign) FILTER (WHERE status = 'stopped'), 0)::int AS stopped,
        coalesce(sum(sign) FILTER (WHERE status = 'ignored'), 0)::int AS ignored
      FROM per_row GROUP BY 1, 2, 3
    ),
    upserted AS (
      INSERT INTO nudge_week_rollups AS r (workspace_id, user_id, week_start, sent, done, snoozed, skipped, stopped, ignored)
      SELECT workspace_id, user_id, week_start, sent, done, snoozed, skipped, stopped, ignored FROM changed
      WHERE sent <> 0 OR done <> 0 OR snoozed <> 0 OR skipped <> 0 OR stopped <> 0 OR ignored <> 0
      ORDER BY workspace_id, week_start, user_id
      ON CONFLICT (workspace_id, week_start, user_id) DO UPDATE SET
        sent = r.sent + excluded.sent, done = r.done + excluded.done, snoozed = r.snoozed + excluded.snoozed,
        skipped = r.skipped + excluded.skipped, stopped = r.stopped + excluded.stopped, ignored = r.ignored + excluded.ignored
      RETURNING r.workspace_id, r.week_start, r.user_id,
        r.sent = 0 AND r.done = 0 AND r.snoozed = 0 AND r.skipped = 0 AND r.stopped = 0 AND r.ignored = 0 AS empty
    )
    SELECT array_agg(workspace_id), array_agg(week_start), array_agg(user_id) FROM upserted WHERE empty
  $q$, stats_rollup_changes(TG_OP, 'user_id, slot_at, status'))
  INTO empty_ws, empty_week, empty_user;
  IF empty_ws IS NOT NULL THEN
    DELETE FROM nudge_week_rollups r
    USING unnest(empty_ws, empty_week, empty_user) AS e(workspace_id, week_start, user_id)
    WHERE r.workspace_id = e.workspace_id AND r.week_start = e.week_start AND r.user_id = e.user_id
      AND r.sent = 0 AND r.done = 0 AND r.snoozed = 0 AND r.skipped = 0 AND r.stopped = 0 AND r.ignored = 0;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER activity_week_rollups_insert AFTER INSERT ON activity_events
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION activity_week_rollups_apply();
--> statement-breakpoint
CREATE TRIGGER activity_week_rollups_update AFTER UPDATE ON activity_events
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION activity_week_rollups_apply();
--> statement-breakpoint
CREATE TRIGGER activity_week_rollups_delete AFTER DELETE ON activity_events
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION activity_week_rollups_apply();
--> statement-breakpoint
CREATE TRIGGER nudge_week_rollups_insert AFTER INSERT ON nudge_deliveries
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION nudge_week_rollups_apply();
--> statement-breakpoint
CREATE TRIGGER nudge_week_rollups_update AFTER UPDATE ON nudge_deliveries
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION nudge_week_rollups_apply();
--> statement-breakpoint
CREATE TRIGGER nudge_week_rollups_delete AFTER DELETE ON nudge_deliveries
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION nudge_week_rollups_apply();
--> statement-breakpoint
-- Rebuilt from the source rows: the backfill below, and whenever a workspace's timezone changes (its weeks move).
-- The share locks hold off writes of events and deliveries for the moment of the rebuild, so none is counted twice or lost.
CREATE FUNCTION stats_rollups_rebuild(ws bigint) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE activity_events, nudge_deliveries IN SHARE MODE;
  DELETE FROM activity_week_rollups WHERE workspace_id = ws;
  DELETE FROM nudge_week_rollups WHERE workspace_id = ws;
  INSERT INTO activity_week_rollups (workspace_id, user_id, week_start, did_days, completed_sessions, unfinished_sessions)
  SELECT ws, user_id, date_trunc('week', day)::date,
    array[coalesce(sum(did) FILTER (WHERE dow = 1), 0), coalesce(sum(did) FILTER (WHERE dow = 2), 0), coalesce(sum(did) FILTER (WHERE dow = 3), 0),
      coalesce(sum(did) FILTER (WHERE dow = 4), 0), coalesce(sum(did) FILTER (WHERE dow = 5), 0), coalesce(sum(did) FILTER (WHERE dow = 6), 0),
      coalesce(sum(did) FILTER (WHERE dow = 7), 0)]::int[],
    sum(completed)::int, sum(unfinished)::int
  FROM (
    SELECT a.user_id, l.day, extract(isodow FROM l.day)::int AS dow,
      ((a.kind = 'nudge' AND a.outcome = 'done') OR (a.kind = 'session' AND a.outcome = 'completed'))::int AS did,
      (a.kind = 'session' AND a.outcome = 'completed')::int AS completed,
      (a.kind = 'session' AND a.outcome <> 'completed')::int AS unfinished
    FROM activity_events a
      CROSS JOIN (SELECT stats_rollup_zone(timezone) AS tz FROM workspaces WHERE id = ws) AS z
      CROSS JOIN LATERAL (SELECT (a.occurred_at AT TIME ZONE z.tz)::date AS day) AS l
    WHERE a.workspace_id = ws
  ) AS e
  GROUP BY 2, 3
  HAVING sum(did) > 0 OR sum(completed) > 0 OR sum(unfinished) > 0;
  INSERT INTO nudge_week_rollups (workspace_id, user_id, week_start, sent, done, snoozed, skipped, stopped, ignored)
  SELECT ws, n.user_id, date_trunc('week', n.slot_at AT TIME ZONE z.tz)::date,
    count(*) FILTER (WHERE n.status = 'sent'), count(*) FILTER (WHERE n.status = 'done'),
    count(*) FILTER (WHERE n.status = 'snoozed'), count(*) FILTER (WHERE n.status = 'skipped'),
    count(*) FILTER (WHERE n.status = 'stopped'), count(*) FILTER (WHERE n.status = 'ignored')
  FROM nudge_deliveries n
    JOIN users u ON u.id = n.user_id AND u.workspace_id = ws
    CROSS JOIN (SELECT stats_rollup_zone(timezone) AS tz FROM workspaces WHERE id = ws) AS z
  WHERE n.status IN ('sent', 'done', 'snoozed', 'skipped', 'stopped', 'ignored')
  GROUP BY 2, 3;
END $$;
--> statement-breakpoint
CREATE FUNCTION stats_rollups_rezone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM stats_rollups_rebuild(NEW.id);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER stats_rollups_rezone AFTER UPDATE OF timezone ON workspaces
  FOR EACH ROW WHEN (OLD.timezone IS DISTINCT FROM NEW.timezone) EXECUTE FUNCTION stats_rollups_rezone();
--> statement-breakpoint
-- Backfill: an upgraded install shows the same figures from its first view.
SELECT stats_rollups_rebuild(id) FROM workspaces;
