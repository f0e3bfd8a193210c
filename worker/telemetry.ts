import { createRequire } from 'node:module';
import type { HrTime } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { makeWorkflowExporter, OpenTelemetryActivityInboundInterceptor, OpenTelemetryActivityOutboundInterceptor, type OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import { type ActivityInterceptorsFactory, DefaultLogger, type InjectedSinks, type LogEntry, type Logger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';
import type { LogLevelName, WorkerConfig } from './config.js';

/**
 * One JSON object per log line: `time` (ISO 8601), `level`, `msg`, `escalationId` when the line is
 * about one escalation (the SDK's `workflowId` is the escalation id), then the rest of the metadata.
 * Errors keep their name, message, stack and fields; a metadata key that clashes with these is
 * prefixed with `meta.`.
 */
export function jsonLogLine(entry: LogEntry): string {
  const { escalationId, ...meta } = entry.meta ?? {};
  const line: Record<string, unknown> = {
    time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
    level: entry.level,
    msg: entry.message,
  };
  const id = escalationId ?? meta.workflowId;
  if (id !== undefined) line.escalationId = id;
  for (const [key, value] of Object.entries(meta)) line[key in line ? `meta.${key}` : key] = value;
  return safeStringify(line);
}

/** The Runtime's logger: JSON lines (see {@link jsonLogLine}) at `level` and above, to stdout by default. */
export function jsonLogger(level: LogLevelName, write: (line: string) => void = (line) => void process.stdout.write(line)): Logger {
  return new DefaultLogger(level, (entry) => write(`${jsonLogLine(entry)}\n`));
}

/**
 * Installs the SDK's Runtime once per process, before any connection or worker: `logger` receives
 * the SDK's, Core's (forwarded), workflows' and activities' logs; Core's Prometheus exporter listens
 * on ESCALATOR_SDK_METRICS_ADDRESS unless it is empty. Throws when that address cannot be bound.
 */
export function installRuntime(config: WorkerConfig, logger: Logger): Runtime {
  const address = config.ESCALATOR_SDK_METRICS_ADDRESS;
  try {
    return Runtime.install({
      logger,
      telemetryOptions: {
        // Core's dependencies (tonic, hyper...) are noisy below WARN.
        logging: { filter: makeTelemetryFilterString({ core: config.ESCALATOR_LOG_LEVEL, other: atLeast(config.ESCALATOR_LOG_LEVEL, 'WARN') }), forward: {} },
        ...(address ? { metrics: { prometheus: { bindAddress: address.text } } } : {}),
      },
    });
  } catch (error) {
    if (!address) throw error;
    throw new Error(`the SDK runtime did not start with its metrics on ESCALATOR_SDK_METRICS_ADDRESS ${address.text}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * Adds `escalationId` (the workflow id of the activity's escalation) to every log line of an
 * activity, both the activity's own (`log.info`) and the SDK's about it.
 */
export const escalationLogAttributes: ActivityInterceptorsFactory = (ctx) => ({
  outbound: {
    getLogAttributes(input, next) {
      const escalationId = ctx.info.workflowExecution?.workflowId;
      return next(escalationId === undefined ? input : { ...input, escalationId });
    },
  },
});

/** The workflow interceptor module of `@temporalio/interceptors-opentelemetry`: bundle it with the workflows when tracing. */
export const otelWorkflowInterceptorsModule = createRequire(import.meta.url).resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** OpenTelemetry tracing of workflows and activities, as worker options; shut it down after the worker stopped. */
export interface WorkerTracing {
  /** Activity spans (RunActivity) and the workflow interceptor module (RunWorkflow, StartActivity, HandleUpdate...). */
  interceptors: { activity: ActivityInterceptorsFactory[]; workflowModules: string[] };
  /** Workflow spans leave the sandbox through this sink. */
  sinks: InjectedSinks<OpenTelemetrySinks>;
  /** Flushes the spans still buffered and stops exporting. */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing when ESCALATOR_OTEL_ENABLED is true (undefined otherwise): a global tracer provider
 * for activity spans, and a span processor shared with the workflow span sink. Spans go to
 * OTEL_EXPORTER_OTLP_ENDPOINT over OTLP/HTTP, or to stdout with ESCALATOR_OTEL_EXPORTER=console.
 * `exporter` replaces either (tests).
 */
export function startTracing(config: WorkerConfig, options: { exporter?: SpanExporter } = {}): WorkerTracing | undefined {
  if (!config.ESCALATOR_OTEL_ENABLED) return undefined;
  const resource = new Resource({ 'service.name': config.OTEL_SERVICE_NAME });
  const exporter = options.exporter ?? spanExporterFor(config);
  const printing = !options.exporter && config.ESCALATOR_OTEL_EXPORTER === 'console';
  // Printed spans are written at once, so their lines are there when the step they trace is.
  const spanProcessor: SpanProcessor = printing ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const provider = new NodeTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register();
  return {
    interceptors: {
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      workflowModules: [otelWorkflowInterceptorsModule],
    },
    sinks: { exporter: makeWorkflowExporter(spanProcessor, resource) },
    shutdown: () => provider.shutdown(),
  };
}

function spanExporterFor(config: WorkerConfig): SpanExporter {
  if (config.ESCALATOR_OTEL_EXPORTER === 'console') return new JsonLinesSpanExporter();
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  return new OTLPTraceExporter(endpoint ? { url: `${endpoint.replace(/\/+$/, '')}/v1/traces` } : {});
}

/**
 * Prints each span as one JSON line (`msg: "span"`), so stdout stays one JSON object per line;
 * the SDK's ConsoleSpanExporter prints multi-line objects.
 */
export class JsonLinesSpanExporter implements SpanExporter {
  constructor(private readonly write: (line: string) => void = (line) => void process.stdout.write(line)) {}

  export(spans: ReadableSpan[], resultCallback: Parameters<SpanExporter['export']>[1]): void {
    for (const span of spans) {
      const context = span.spanContext();
      this.write(
        `${safeStringify({
          time: new Date(milliseconds(span.startTime)).toISOString(),
          level: 'INFO',
          msg: 'span',
          span: {
            name: span.name,
            traceId: context.traceId,
            spanId: context.spanId,
            parentSpanId: span.parentSpanId,
            kind: span.kind,
            durationMs: milliseconds(span.duration),
            status: span.status,
            attributes: span.attributes,
          },
        })}\n`,
      );
    }
    resultCallback({ code: 0 }); // ExportResultCode.SUCCESS
  }

  async shutdown(): Promise<void> {}
}

function milliseconds([seconds, nanos]: HrTime): number {
  return seconds * 1000 + nanos / 1e6;
}

function atLeast(level: LogLevelName, floor: LogLevelName): LogLevelName {
  const order: LogLevelName[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
  return order.indexOf(level) >= order.indexOf(floor) ? level : floor;
}

/** JSON.stringify that keeps errors readable and never throws on bigints or cycles. */
function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value, (_key, field: unknown) => readable(field));
  } catch {
    // A cycle: print repeated objects as a marker (shared, acyclic ones too, on this rare path).
    const seen = new WeakSet<object>();
    return JSON.stringify(value, (_key, field: unknown) => {
      if (typeof field === 'object' && field !== null) {
        if (seen.has(field)) return '[circular]';
        seen.add(field);
      }
      return readable(field);
    });
  }
}

function readable(field: unknown): unknown {
  if (typeof field === 'bigint') return field.toString();
  if (!(field instanceof Error)) return field;
  // `failure` is a Temporal failure's encoded proto: payload bytes, not something to read in a log.
  const fields: Record<string, unknown> = { ...field };
  delete fields.failure;
  const { name, message, stack, cause } = field;
  return { ...fields, name, message, stack, ...(cause === undefined ? {} : { cause }) };
}
