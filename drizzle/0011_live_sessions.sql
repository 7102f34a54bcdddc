CREATE TABLE "live_sessions" (
	"session_id" text PRIMARY KEY NOT NULL,
	"platform" text NOT NULL,
	"sequence" jsonb NOT NULL,
	"state" jsonb NOT NULL,
	"message_key" text,
	"owner" text,
	"lease_token" text,
	"lease_until" timestamp with time zone NOT NULL,
	"stop_requested" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "live_sessions_platform_lease_idx" ON "live_sessions" USING btree ("platform","lease_until");--> statement-breakpoint
CREATE INDEX "live_sessions_message_key_idx" ON "live_sessions" USING btree ("message_key");