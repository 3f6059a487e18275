/** The job of the seed 004 app: what the (non-Effect) producer imports. */
import { Job } from "@effect-jobs/core"
import { Schema } from "effect"

/** After a donation is saved, bring the donor's record at the email provider up to date. */
export const UpdateDonorEmailRecord = Job.make("UpdateDonorEmailRecord", {
  payload: {
    donationId: Schema.String,
    email: Schema.String,
    amountCents: Schema.Int.check(Schema.isGreaterThan(0))
  },
  retry: 5
})
