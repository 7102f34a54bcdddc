CREATE TABLE "nudge_questions" (
	"delivery_id" bigint PRIMARY KEY NOT NULL,
	"user_id" bigint NOT NULL,
	"asked_at" timestamp with time zone NOT NULL,
	"answer" text,
	"answered_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "preferences" ADD COLUMN "weekly_hours" jsonb;--> statement-breakpoint
ALTER TABLE "preferences" ADD COLUMN "days_off" jsonb;--> statement-breakpoint
ALTER TABLE "preferences" ADD COLUMN "max_per_day" integer;--> statement-breakpoint
ALTER TABLE "nudge_questions" ADD CONSTRAINT "nudge_questions_delivery_id_nudge_deliveries_id_fk" FOREIGN KEY ("delivery_id") REFERENCES "public"."nudge_deliveries"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "nudge_questions" ADD CONSTRAINT "nudge_questions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "nudge_questions_user_idx" ON "nudge_questions" USING btree ("user_id","asked_at");