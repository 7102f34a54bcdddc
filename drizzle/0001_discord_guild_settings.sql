CREATE TABLE "discord_guild_settings" (
	"workspace_id" bigint PRIMARY KEY NOT NULL,
	"lead_role_id" text,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "discord_guild_settings" ADD CONSTRAINT "discord_guild_settings_workspace_id_workspaces_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspaces"("id") ON DELETE cascade ON UPDATE no action;