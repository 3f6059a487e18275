/**
 * A tracer that keeps every span it makes, as an in-memory span exporter would: the tracing
 * tests of core and of each store read a job's spans from it. (Under `conformance/` because
 * that is the test folder other packages import from.)
 */
import * as Tracer from "effect/Tracer"

/** The tracer, the spans it made (in order of creation), and the spans of one name. */
export const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  const named = (name: string) => spans.filter((span) => span.name === name)
  return { spans, tracer, named }
}
