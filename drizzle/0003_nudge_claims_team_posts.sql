CREATE TABLE "team_post_deliveries" (
	"id" bigint PRIMARY KEY DEFAULT nextval('nudge_deliveries_id_seq') NOT NULL,
	"workspace_id" bigint NOT NULL,
	"slot_at" timestamp with time zone NOT NULL,
	"status" text NOT NULL,
	"routine_id" text,
	"message_ref" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"claimed_at" timestamp with time zone,
	"claimed_by" integer,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "team_posts" (
	"workspace_id" bigint PRIMARY KEY NOT NULL,
	"channel_id" text NOT NULL,
	"timezone" text NOT NULL,
	"local_time" text NOT NULL,
	"days" jsonb NOT NULL,
	"created_by_user_id" bigint NOT NULL,
	"next_due_at" timestamp with time zone,
	"paused_reason" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "nudge_deliveries" ADD COLUMN "claimed_by" integer;--> statement-breakpoint
ALTER TABLE "team_post_deliveries" ADD CONSTRAINT "team_post_deliveries_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_posts" ADD CONSTRAINT "team_posts_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "team_posts" ADD CONSTRAINT "team_posts_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "team_post_deliveries_ws_slot_uq" ON "team_post_deliveries" USING btree ("workspace_id","slot_at");--> statement-breakpoint
CREATE INDEX "team_post_deliveries_status_idx" ON "team_post_deliveries" USING btree ("status","claimed_at");--> statement-breakpoint
CREATE INDEX "team_posts_next_due_idx" ON "team_posts" USING btree ("next_due_at") WHERE "team_posts"."next_due_at" is not null;