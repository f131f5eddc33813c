/**
 * Grafana dashboards, generated from code so panel queries use the catalogue's metric names and
 * panels share one layout. `laminar dashboards DIR` writes them; dashboards/ holds the output
 * that Grafana provisioning loads, and a test keeps the two identical.
 *
 * The same dashboards serve one node and a cluster. In a cluster every node exports its own
 * series with a `node` label, so every panel outside the Nodes row aggregates the label away:
 * what each node counts for itself (invocations, errors, throttles, durations, environments,
 * provisioned environments) is summed; what every node reports alike because it reads it from
 * the cluster's shared state (the concurrency gauges, read from the shared ledger; reservations;
 * the account limit; desired capacity; the depth of the shared event queue) is taken once, with
 * `max`. Both forms give the same answer on a single node, whose series have no `node` label.
 * The Nodes row breaks the summed figures down by node; a node's share of the cluster's
 * concurrent executions is its busy environments.
 */

/** Prices used for the cost estimate (us-east-1, x86, USD). */
export const PRICE_PER_GB_SECOND = 0.0000166667;
export const PRICE_PER_REQUEST = 0.0000002;

export interface Target {
  expr: string;
  legendFormat: string;
  format?: 'heatmap';
}

export interface Panel {
  id: number;
  type: 'timeseries' | 'heatmap' | 'stat' | 'row';
  title: string;
  description?: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: 'prometheus'; uid: string };
  targets?: (Target & { refId: string; datasource: { type: 'prometheus'; uid: string } })[];
  fieldConfig?: { defaults: { unit: string }; overrides: [] };
  options?: Record<string, unknown>;
  collapsed?: boolean;
  panels?: [];
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  schemaVersion: number;
  version: number;
  editable: boolean;
  time: { from: string; to: string };
  refresh: string;
  templating: { list: Record<string, unknown>[] };
  annotations: { list: Record<string, unknown>[] };
  panels: Panel[];
}

const DS = { type: 'prometheus' as const, uid: '${datasource}' };

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: Target[];
  type?: 'timeseries' | 'heatmap' | 'stat';
  width?: number;
}

/** Lays out rows of panels on Grafana's 24-column grid. */
class Layout {
  private readonly panels: Panel[] = [];
  private id = 1;
  private y = 0;
  private x = 0;

  row(title: string, specs: PanelSpec[]): this {
    if (this.x > 0) this.newLine();
    this.panels.push({ id: this.id++, type: 'row', title, gridPos: { x: 0, y: this.y, w: 24, h: 1 }, collapsed: false, panels: [] });
    this.y += 1;
    for (const spec of specs) this.panel(spec);
    return this;
  }

  private newLine(): void {
    this.x = 0;
    this.y += 8;
  }

  private panel(spec: PanelSpec): void {
    const w = spec.width ?? 8;
    if (this.x + w > 24) this.newLine();
    const type = spec.type ?? 'timeseries';
    this.panels.push({
      id: this.id++,
      type,
      title: spec.title,
      description: spec.description,
      gridPos: { x: this.x, y: this.y, w, h: 8 },
      datasource: DS,
      targets: spec.targets.map((t, i) => ({ ...t, refId: String.fromCharCode(65 + i), datasource: DS })),
      fieldConfig: { defaults: { unit: spec.unit }, overrides: [] },
      ...(type === 'heatmap' ? { options: { calculate: false, yAxis: { unit: spec.unit } } } : {}),
    });
    this.x += w;
    if (this.x >= 24) this.newLine();
  }

  build(): Panel[] {
    return this.panels;
  }
}

const rate = (metric: string, filter: string, by: string) => `sum by (${by}) (rate(${metric}{${filter}}[$__rate_interval]))`;
const quantile = (q: number, metric: string, filter: string, by: string) =>
  `histogram_quantile(${q}, sum by (le${by ? `, ${by}` : ''}) (rate(${metric}_bucket{${filter}}[$__rate_interval])))`;

/** Series every node exports from its first scrape, so the node list is complete before any invocation. */
const NODE_SOURCE = 'label_values(laminar_account_concurrency_limit, node)';

function variables(multiFunction: boolean): Record<string, unknown>[] {
  return [
    { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {}, hide: 0 },
    {
      name: 'function',
      label: 'Function',
      type: 'query',
      datasource: DS,
      query: { query: 'label_values(laminar_invocations_total, function)', refId: 'PrometheusVariableQueryEditor-VariableQuery' },
      definition: 'label_values(laminar_invocations_total, function)',
      refresh: 2,
      multi: multiFunction,
      includeAll: multiFunction,
      ...(multiFunction ? { allValue: '.*' } : {}),
      current: {},
      sort: 1,
      hide: 0,
    },
    {
      name: 'node',
      label: 'Node',
      description: 'Nodes shown in the Nodes row. A single node has no node label: only All is offered, and it matches its series.',
      type: 'query',
      datasource: DS,
      query: { query: NODE_SOURCE, refId: 'PrometheusVariableQueryEditor-VariableQuery' },
      definition: NODE_SOURCE,
      refresh: 2,
      multi: true,
      includeAll: true,
      // `.*` also matches the empty value, so All keeps the series of a node without the label.
      allValue: '.*',
      current: { text: 'All', value: '$__all' },
      sort: 1,
      hide: 0,
    },
  ];
}

/** Autoscaling actions as annotations on every time series panel. */
function annotations(filter: string): Record<string, unknown>[] {
  return [
    {
      name: 'Autoscaling actions',
      datasource: DS,
      enable: true,
      iconColor: 'orange',
      expr: `sum by (function, qualifier, direction) (increase(laminar_autoscaling_actions_total{${filter}}[1m])) > 0`,
      step: '60s',
      titleFormat: 'Scale {{direction}}',
      textFormat: '{{function}}:{{qualifier}}',
    },
  ];
}

function dashboard(uid: string, title: string, description: string, multi: boolean, filter: string, panels: Panel[]): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['laminar', 'lambda'],
    schemaVersion: 42,
    version: 1,
    editable: true,
    time: { from: 'now-1h', to: 'now' },
    refresh: '10s',
    templating: { list: variables(multi) },
    annotations: { list: annotations(filter) },
    panels,
  };
}

/** The Nodes row's filter: the nodes picked in `$node`. */
const NODE = 'node=~"$node"';

/**
 * The Nodes row: each node's share of the figures the other rows sum. With one node (no `node`
 * label) each panel shows one line, the node's total.
 */
function nodePanels(filter: string, overview: boolean): PanelSpec[] {
  const per = 'across the functions shown';
  const invocations: PanelSpec = { title: 'Invocations by node', description: `Invocations per second each node ran, ${per}.`, unit: 'reqps', targets: [{ expr: rate('laminar_invocations_total', filter, 'node'), legendFormat: '{{node}}' }] };
  // The concurrency gauges are the cluster's (every node reads them from the shared ledger); a
  // node's own share is its busy environments, one per invocation it runs.
  const busy: PanelSpec = {
    title: 'Busy environments by node',
    description: `Invocations each node is running (one per busy environment; one still in Init counts under initializing), ${per}: the node's share of the concurrent executions.`,
    unit: 'short',
    // A node with no busy environment exports no busy series: its line shows 0 rather than a gap.
    targets: [{ expr: `sum by (node) (laminar_environments{${filter}, state="busy"}) or 0 * sum by (node) (laminar_account_concurrency_limit{${NODE}})`, legendFormat: '{{node}}' }],
  };
  const environments: PanelSpec = {
    title: 'Environments by node',
    description: `Execution environments on each node by state, ${per}: each node keeps its own.`,
    unit: 'short',
    targets: [{ expr: `sum by (node, state) (laminar_environments{${filter}})`, legendFormat: '{{node}} {{state}}' }],
  };
  if (!overview) return [invocations, busy, environments];
  return [
    invocations,
    {
      title: 'Throttles by node',
      description: `Requests each node refused with 429 per second, by Reason, ${per} (LaminarHostCapacityExceeded is a node's own memory).`,
      unit: 'reqps',
      targets: [{ expr: rate('laminar_throttles_total', filter, 'node, reason'), legendFormat: '{{node}} {{reason}}' }],
    },
    { title: 'Duration p99 by node', description: `Handler duration p99 on each node, ${per}.`, unit: 's', targets: [{ expr: quantile(0.99, 'laminar_duration_seconds', filter, 'node'), legendFormat: '{{node}}' }] },
    { ...busy, width: 12 },
    { ...environments, width: 12 },
  ];
}

/** The overview: every function, or those picked in `$function`. */
export function overviewDashboard(): Dashboard {
  const f = 'function=~"$function"';
  const panels = new Layout()
    .row('Invocations', [
      { title: 'Invocations', description: 'Invocations per second that ran code (Lambda Invocations).', unit: 'reqps', targets: [{ expr: rate('laminar_invocations_total', f, 'function'), legendFormat: '{{function}}' }] },
      { title: 'Errors by type', description: 'Function errors per second by errorType (Lambda Errors).', unit: 'reqps', targets: [{ expr: rate('laminar_errors_total', f, 'function, type'), legendFormat: '{{function}} {{type}}' }] },
      { title: 'Throttles by reason', description: 'Requests refused with 429 per second, by Reason (Lambda Throttles).', unit: 'reqps', targets: [{ expr: rate('laminar_throttles_total', f, 'function, reason'), legendFormat: '{{function}} {{reason}}' }] },
    ])
    .row('Latency', [
      {
        title: 'Duration p50 / p90 / p99',
        description: 'Handler duration percentiles from the histogram (Init excluded).',
        unit: 's',
        targets: [0.5, 0.9, 0.99].map((q) => ({ expr: quantile(q, 'laminar_duration_seconds', f, 'function'), legendFormat: `{{function}} p${q * 100}` })),
      },
      { title: 'Duration distribution', description: 'How handler durations spread over the buckets.', unit: 's', type: 'heatmap', targets: [{ expr: `sum by (le) (increase(laminar_duration_seconds_bucket{${f}}[$__rate_interval]))`, legendFormat: '{{le}}', format: 'heatmap' }] },
      { title: 'Laminar overhead p99', description: "The platform's own time per invocation: admission, placement, dispatch, logging.", unit: 's', targets: [{ expr: quantile(0.99, 'laminar_scheduler_overhead_seconds', f, 'function'), legendFormat: '{{function}}' }] },
    ])
    .row('Cold starts', [
      { title: 'Cold-start ratio', description: 'Share of invocations that initialised a new environment.', unit: 'percentunit', targets: [{ expr: `${rate('laminar_cold_starts_total', f, 'function')} / ${rate('laminar_invocations_total', f, 'function')}`, legendFormat: '{{function}}' }] },
      { title: 'Init duration p50 / p99', description: 'Init Duration of new environments (thread start and handler import).', unit: 's', targets: [0.5, 0.99].map((q) => ({ expr: quantile(q, 'laminar_init_duration_seconds', f, 'function'), legendFormat: `{{function}} p${q * 100}` })) },
      { title: 'Cold starts', description: 'Cold starts per second.', unit: 'reqps', targets: [{ expr: rate('laminar_cold_starts_total', f, 'function'), legendFormat: '{{function}}' }] },
    ])
    .row('Concurrency', [
      {
        title: 'Concurrency vs reservation',
        description: 'In-flight invocations per function, across the cluster, against its reserved concurrency.',
        unit: 'short',
        width: 12,
        targets: [
          { expr: `max by (function) (laminar_concurrent_executions{${f}})`, legendFormat: '{{function}} in flight' },
          { expr: `max by (function) (laminar_reserved_concurrency{${f}})`, legendFormat: '{{function}} reserved' },
        ],
      },
      {
        title: 'Account concurrency',
        description: 'Account-wide in-flight, unreserved and claimed concurrency against the account limit.',
        unit: 'short',
        width: 12,
        targets: [
          { expr: 'max(laminar_account_concurrent_executions)', legendFormat: 'in flight' },
          { expr: 'max(laminar_unreserved_concurrent_executions)', legendFormat: 'unreserved in flight' },
          { expr: 'max(laminar_claimed_account_concurrency)', legendFormat: 'claimed' },
          { expr: 'max(laminar_account_concurrency_limit)', legendFormat: 'limit' },
        ],
      },
    ])
    .row('Provisioned concurrency', [
      {
        title: 'Provisioned: allocated vs in use',
        description: 'Provisioned environments ready, and how many are busy.',
        unit: 'short',
        targets: [
          { expr: `sum by (function, qualifier) (laminar_provisioned_concurrency_allocated{${f}})`, legendFormat: '{{function}}:{{qualifier}} allocated' },
          { expr: `sum by (function, qualifier) (laminar_provisioned_concurrency_executions{${f}})`, legendFormat: '{{function}}:{{qualifier}} in use' },
          { expr: `max by (function, qualifier) (laminar_autoscaling_desired_capacity{${f}})`, legendFormat: '{{function}}:{{qualifier}} desired' },
        ],
      },
      {
        title: 'Provisioned utilization',
        description: 'Busy ÷ allocated over all nodes, the metric target tracking follows (compare with your TargetValue).',
        unit: 'percentunit',
        targets: [
          {
            expr: `sum by (function, qualifier) (laminar_provisioned_concurrency_executions{${f}}) / (sum by (function, qualifier) (laminar_provisioned_concurrency_allocated{${f}}) > 0)`,
            legendFormat: '{{function}}:{{qualifier}}',
          },
        ],
      },
      {
        title: 'Provisioned vs spillover invocations',
        description: 'Invocations served by provisioned environments, and those that spilled over to on-demand ones.',
        unit: 'reqps',
        targets: [
          { expr: rate('laminar_provisioned_concurrency_invocations_total', f, 'function, qualifier'), legendFormat: '{{function}}:{{qualifier}} provisioned' },
          { expr: rate('laminar_provisioned_concurrency_spillover_invocations_total', f, 'function, qualifier'), legendFormat: '{{function}}:{{qualifier}} spillover' },
        ],
      },
    ])
    .row('Asynchronous invocation', [
      {
        title: 'Events received and dropped',
        description: 'Event invocations accepted, and those discarded without success, by reason.',
        unit: 'reqps',
        width: 6,
        targets: [
          { expr: rate('laminar_async_events_received_total', f, 'function'), legendFormat: '{{function}} received' },
          { expr: rate('laminar_async_events_dropped_total', f, 'function, reason'), legendFormat: '{{function}} dropped {{reason}}' },
        ],
      },
      {
        title: 'Async backlog',
        description: 'Events accepted and not yet finished. A cluster shares one queue, and every node reports all of it.',
        unit: 'short',
        width: 6,
        targets: [{ expr: `max by (function) (laminar_async_queue_depth{${f}})`, legendFormat: '{{function}}' }],
      },
      { title: 'Event age p99', description: 'Time from accepting an event to invoking it, retries included.', unit: 's', width: 6, targets: [{ expr: quantile(0.99, 'laminar_async_event_age_seconds', f, 'function'), legendFormat: '{{function}}' }] },
      {
        title: 'Destinations and dead letters',
        description: 'Events kept in the failed-event store (for a dead-letter queue or a queue, topic, bus or bucket destination), records that could not be delivered, and events their dead-letter queue could not keep.',
        unit: 'reqps',
        width: 6,
        targets: [
          { expr: rate('laminar_async_events_stored_total', f, 'function, reason'), legendFormat: '{{function}} stored {{reason}}' },
          { expr: rate('laminar_async_destination_delivery_failures_total', f, 'function, type'), legendFormat: '{{function}} delivery failures {{type}}' },
          { expr: rate('laminar_async_dead_letter_errors_total', f, 'function'), legendFormat: '{{function}} dead-letter errors' },
        ],
      },
    ])
    .row('Function URLs', [
      {
        title: 'URL requests, 4xx and 5xx',
        description: 'Requests to function URLs per second, and those answered 4xx (refused, throttled, or the function said so) and 5xx (function errors) (UrlRequestCount, Url4xxCount, Url5xxCount).',
        unit: 'reqps',
        width: 12,
        targets: [
          { expr: rate('laminar_url_requests_total', f, 'function'), legendFormat: '{{function}} requests' },
          { expr: rate('laminar_url_4xx_responses_total', f, 'function'), legendFormat: '{{function}} 4xx' },
          { expr: rate('laminar_url_5xx_responses_total', f, 'function'), legendFormat: '{{function}} 5xx' },
        ],
      },
      {
        title: 'URL latency p50 / p99',
        description: 'Time from receiving a function URL request to answering it, cold starts included (UrlRequestLatency).',
        unit: 's',
        width: 12,
        targets: [0.5, 0.99].map((q) => ({ expr: quantile(q, 'laminar_url_request_duration_seconds', f, 'function'), legendFormat: `{{function}} p${q * 100}` })),
      },
    ])
    .row('Environments', [
      { title: 'Environments by state', description: 'Execution environments initializing, idle and busy, on-demand and provisioned.', unit: 'short', width: 12, targets: [{ expr: `sum by (state, kind) (laminar_environments{${f}})`, legendFormat: '{{kind}} {{state}}' }] },
      { title: 'Evictions by reason', description: 'Environments destroyed per second: idle-timeout, capacity, retired, failed, shutdown.', unit: 'reqps', width: 12, targets: [{ expr: rate('laminar_environment_evictions_total', f, 'reason'), legendFormat: '{{reason}}' }] },
    ])
    .row('Cost', [
      { title: 'GB-seconds', description: 'Billed compute per second (MemorySize × billed duration).', unit: 'short', width: 12, targets: [{ expr: rate('laminar_billed_gigabyte_seconds_total', f, 'function'), legendFormat: '{{function}}' }] },
      {
        title: 'Estimated cost per hour (AWS prices)',
        description: `What this load would cost on Lambda per hour: $${PRICE_PER_GB_SECOND} per GB-s and $${PRICE_PER_REQUEST} per request (us-east-1, x86).`,
        unit: 'currencyUSD',
        width: 12,
        targets: [
          {
            expr: `3600 * (${PRICE_PER_GB_SECOND} * sum(rate(laminar_billed_gigabyte_seconds_total{${f}}[$__rate_interval])) + ${PRICE_PER_REQUEST} * sum(rate(laminar_invocations_total{${f}}[$__rate_interval])))`,
            legendFormat: 'USD per hour',
          },
        ],
      },
    ])
    .row('Nodes', nodePanels(`${f}, ${NODE}`, true))
    .build();
  return dashboard('laminar-overview', 'Laminar overview', 'Invocations, latency, cold starts, concurrency, provisioned concurrency, async and cost across functions.', true, f, panels);
}

/** One function, broken down by qualifier. */
export function functionDashboard(): Dashboard {
  const f = 'function="$function"';
  const panels = new Layout()
    .row('$function', [
      { title: 'Invocations by qualifier', description: 'Invocations per second by version or alias.', unit: 'reqps', targets: [{ expr: rate('laminar_invocations_total', f, 'qualifier'), legendFormat: '{{qualifier}}' }] },
      { title: 'Errors by type', description: 'Function errors per second by errorType.', unit: 'reqps', targets: [{ expr: rate('laminar_errors_total', f, 'qualifier, type'), legendFormat: '{{qualifier}} {{type}}' }] },
      { title: 'Throttles by reason', description: 'Why requests were refused.', unit: 'reqps', targets: [{ expr: rate('laminar_throttles_total', f, 'reason'), legendFormat: '{{reason}}' }] },
    ])
    .row('Latency and cold starts', [
      { title: 'Duration p50 / p99 by qualifier', description: 'Handler duration percentiles.', unit: 's', targets: [0.5, 0.99].map((q) => ({ expr: quantile(q, 'laminar_duration_seconds', f, 'qualifier'), legendFormat: `{{qualifier}} p${q * 100}` })) },
      { title: 'Cold-start ratio by qualifier', description: 'Share of invocations that started cold.', unit: 'percentunit', targets: [{ expr: `${rate('laminar_cold_starts_total', f, 'qualifier')} / ${rate('laminar_invocations_total', f, 'qualifier')}`, legendFormat: '{{qualifier}}' }] },
      { title: 'Init duration p99', description: 'Init Duration of new environments.', unit: 's', targets: [{ expr: quantile(0.99, 'laminar_init_duration_seconds', f, 'qualifier'), legendFormat: '{{qualifier}}' }] },
    ])
    .row('Capacity', [
      {
        title: 'Concurrency vs reservation',
        description: 'In-flight invocations against reserved concurrency.',
        unit: 'short',
        targets: [
          { expr: `max(laminar_concurrent_executions{${f}})`, legendFormat: 'in flight' },
          { expr: `max(laminar_reserved_concurrency{${f}})`, legendFormat: 'reserved' },
        ],
      },
      {
        title: 'Provisioned allocation, use and desired',
        description: 'Provisioned environments ready, busy, and what autoscaling asked for.',
        unit: 'short',
        targets: [
          { expr: `sum by (qualifier) (laminar_provisioned_concurrency_allocated{${f}})`, legendFormat: '{{qualifier}} allocated' },
          { expr: `sum by (qualifier) (laminar_provisioned_concurrency_executions{${f}})`, legendFormat: '{{qualifier}} in use' },
          { expr: `max by (qualifier) (laminar_autoscaling_desired_capacity{${f}})`, legendFormat: '{{qualifier}} desired' },
        ],
      },
      { title: 'Environments by state', description: 'This function’s environments.', unit: 'short', targets: [{ expr: `sum by (state, kind) (laminar_environments{${f}})`, legendFormat: '{{kind}} {{state}}' }] },
    ])
    .row('Nodes', nodePanels(`${f}, ${NODE}`, false))
    .build();
  return dashboard('laminar-function', 'Laminar function', 'One function in depth: by qualifier, with its capacity.', false, f, panels);
}

export const DASHBOARDS: Record<string, () => Dashboard> = {
  'laminar-overview.json': overviewDashboard,
  'laminar-function.json': functionDashboard,
};

/** Every PromQL expression of a dashboard (panels and annotations). */
export function expressions(d: Dashboard): string[] {
  const exprs = d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
  for (const a of d.annotations.list) if (typeof a.expr === 'string') exprs.push(a.expr);
  return exprs;
}
