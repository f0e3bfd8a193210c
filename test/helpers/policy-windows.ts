import { isMap, isScalar, parseDocument, type YAMLMap } from 'yaml';

/** Whether the moment a test starts falls inside a policy's clock windows or well outside them. */
export type WindowPlacement = 'inside' | 'outside';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

/**
 * The placement the time-dependent test files run with: `ESCALATOR_TEST_WINDOWS=inside|outside`
 * (default `outside`). Running the suite once with each shows that no test leans on the hour it runs at.
 */
export function placementFromEnvironment(): WindowPlacement {
  const value = process.env.ESCALATOR_TEST_WINDOWS ?? 'outside';
  if (value !== 'inside' && value !== 'outside') throw new Error(`ESCALATOR_TEST_WINDOWS must be inside or outside, got "${value}"`);
  return value;
}

export interface PlacedWindows {
  /** For each rotation, the member whose shift is under way (default: its first member). */
  onCall?: Record<string, string>;
}

/**
 * The policy with every clock window moved relative to `now`, each on its own zone's wall clock:
 * quiet hours, business hours and everyone's working hours run from two hours before `now` to three
 * hours after it (`inside`), or from three to five hours after it (`outside`). Three, not two: a
 * clock going back an hour at the end of daylight-saving time must not bring a window's edge back
 * over the wall-clock times of the next ninety minutes. Out-of-office ranges
 * cover today (`inside`) or lie three weeks ahead (`outside`). Rotations hand off and pools turn
 * days away from `now`, with the chosen member's shift under way and the pool's first turn serving,
 * so nothing changes hands while a test runs.
 */
export function placeWindows(yaml: string, now: Date, placement: WindowPlacement, options: PlacedWindows = {}): string {
  const document = parseDocument(yaml);
  const policyZone = text(document.get('timezone')) ?? 'UTC';
  const span = (zone: string) => (placement === 'inside' ? [clock(zone, now.getTime() - 2 * HOUR_MS), clock(zone, now.getTime() + 3 * HOUR_MS)] : [clock(zone, now.getTime() + 3 * HOUR_MS), clock(zone, now.getTime() + 5 * HOUR_MS)]);

  const quiet = document.get('quietHours');
  if (isMap(quiet)) {
    const [from, to] = span(policyZone);
    quiet.set('from', from);
    quiet.set('to', to);
  }
  // Set even where the policy leaves it out: the default (Mon-Fri 09:00-17:00) is a window too.
  document.set('businessHours', `Mon-Sun ${span(policyZone).join('-')}`);

  for (const person of entries(document.get('people'))) {
    const zone = text(person.get('timezone')) ?? policyZone;
    if (person.has('workingHours')) person.set('workingHours', `Mon-Sun ${span(zone).join('-')}`);
    if (person.has('outOfOffice')) {
      const range = placement === 'inside' ? { from: date(zone, now.getTime() - DAY_MS), to: date(zone, now.getTime() + DAY_MS) } : { from: date(zone, now.getTime() + 21 * DAY_MS), to: date(zone, now.getTime() + 28 * DAY_MS) };
      person.set('outOfOffice', document.createNode([range]));
    }
  }

  for (const [name, rotation] of namedEntries(document.get('rotations'))) {
    const zone = text(rotation.get('timezone')) ?? policyZone;
    const members = (rotation.toJSON() as { members: string[] }).members;
    const turn = Math.max(0, members.indexOf(options.onCall?.[name] ?? members[0]!));
    if (text(rotation.get('handoff')) === 'daily') {
      // Hand-offs twelve hours from now; the shift under way began at the last one, `turn` days after start.
      const handoff = clock(zone, now.getTime() + 12 * HOUR_MS);
      // Yesterday on the calendar, not 24 hours ago: across a daylight-saving switch those are different dates.
      const today = date(zone, now.getTime());
      const lastHandoffDate = handoff > clock(zone, now.getTime()) ? daysBefore(today, 1) : today;
      rotation.set('handoffTime', handoff);
      rotation.set('start', daysBefore(lastHandoffDate, turn));
    } else {
      // Weekly, handed off three days ago and again four days from now.
      const start = now.getTime() - 3 * DAY_MS;
      rotation.set('handoffDay', weekday(zone, start));
      rotation.set('start', daysBefore(date(zone, start), turn * 7));
    }
  }

  // A pool (start or not: it defaults to a date) turns at the local midnight that begins its week or sprint: three days ago.
  for (const pool of entries(document.get('pools'))) {
    pool.set('start', date(text(pool.get('timezone')) ?? policyZone, now.getTime() - 3 * DAY_MS));
  }
  return document.toString();
}

function entries(node: unknown): YAMLMap[] {
  return namedEntries(node).map(([, value]) => value);
}

function namedEntries(node: unknown): Array<[string, YAMLMap]> {
  if (!isMap(node)) return [];
  return node.items.flatMap((pair) => (isScalar(pair.key) && isMap(pair.value) ? [[String(pair.key.value), pair.value as YAMLMap] as [string, YAMLMap]] : []));
}

function text(node: unknown): string | undefined {
  if (typeof node === 'string') return node;
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

function parts(zone: string, t: number): Record<string, string> {
  const formatted = new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', weekday: 'short', hourCycle: 'h23' }).formatToParts(t);
  return Object.fromEntries(formatted.map((part) => [part.type, part.value]));
}

/** `HH:mm` on the zone's wall clock. */
function clock(zone: string, t: number): string {
  const { hour, minute } = parts(zone, t);
  return `${hour}:${minute}`;
}

/** `YYYY-MM-DD` on the zone's wall clock. */
function date(zone: string, t: number): string {
  const { year, month, day } = parts(zone, t);
  return `${year}-${month}-${day}`;
}

/**
 * A calendar date `days` days before `ymd`, counted on the calendar: subtracting days of 24 hours
 * from an instant lands on the day before when a daylight-saving switch lies in between (the
 * rotation then started a day early, and the wrong member was on call).
 */
function daysBefore(ymd: string, days: number): string {
  const [year, month, day] = ymd.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(year, month - 1, day - days)).toISOString().slice(0, 10);
}

function weekday(zone: string, t: number): string {
  const name = parts(zone, t).weekday!;
  return weekdays.find((day) => name.startsWith(day)) ?? name;
}
