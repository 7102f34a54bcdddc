CREATE TABLE "action_refs" (
	"key" text PRIMARY KEY NOT NULL,
	"platform" text NOT NULL,
	"action_id" text NOT NULL,
	"value" text NOT NULL,
	"context" jsonb NOT NULL,
	"workspace_external_id" text,
	"platform_user_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "form_drafts" (
	"id" text PRIMARY KEY NOT NULL,
	"platform" text NOT NULL,
	"workspace_external_id" text NOT NULL,
	"platform_user_id" text NOT NULL,
	"form" jsonb NOT NULL,
	"answers" jsonb NOT NULL,
	"only_fields" jsonb,
	"errors" jsonb,
	"position" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "action_refs_expires_idx" ON "action_refs" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "action_refs_owner_idx" ON "action_refs" USING btree ("platform","platform_user_id");--> statement-breakpoint
CREATE INDEX "form_drafts_expires_idx" ON "form_drafts" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "form_drafts_owner_idx" ON "form_drafts" USING btree ("platform","platform_user_id");