ALTER TABLE "team_posts" DROP CONSTRAINT "team_posts_created_by_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "discord_guild_settings" ALTER COLUMN "updated_by" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "lead_grants" ALTER COLUMN "granted_by" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "team_posts" ALTER COLUMN "created_by_user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "team_posts" ADD CONSTRAINT "team_posts_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;