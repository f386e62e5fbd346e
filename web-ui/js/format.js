// Numbers with their units and times in the reader's locale.

const locale = navigator.language || undefined;
const usd4 = new Intl.NumberFormat(locale, {style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 4});
const usd2 = new Intl.NumberFormat(locale, {style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2});
const int = new Intl.NumberFormat(locale, {maximumFractionDigits: 0});
const dec = new Intl.NumberFormat(locale, {maximumSignificantDigits: 4});
const dateTime = new Intl.DateTimeFormat(locale, {dateStyle: 'medium', timeStyle: 'medium'});
const timeOnly = new Intl.DateTimeFormat(locale, {timeStyle: 'medium'});
const relative = new Intl.RelativeTimeFormat(locale, {numeric: 'auto', style: 'short'});

/** "$0.0123 USD" for small amounts, "$12.50 USD" otherwise. */
export function money(v) {
  if (v === null || v === undefined || v === '') return '—';
  const n = Number(v);
  return (Math.abs(n) < 1 && n !== 0 ? usd4 : usd2).format(n) + ' USD';
}

export function count(v) {
  return v === null || v === undefined ? '—' : int.format(Number(v));
}

export function number(v) {
  return v === null || v === undefined || Number.isNaN(Number(v)) ? '—' : dec.format(Number(v));
}

/** A pool's declared peak FLOP/s per device, in TFLOP/s; "not declared" (so no MFU) when absent. */
export function flops(v) {
  return v === null || v === undefined ? 'not declared' : dec.format(Number(v) / 1e12) + ' TFLOP/s';
}

/** "1 GPU", "2 GPUs". */
export function gpus(v) {
  return count(v) + (Number(v) === 1 ? ' GPU' : ' GPUs');
}

export function steps(v) {
  return count(v) + ' steps';
}

/** Bytes as KiB, MiB or GiB. */
export function bytes(v) {
  if (v === null || v === undefined) return '—';
  const n = Number(v);
  if (n < 1024) return int.format(n) + ' B';
  if (n < 1024 ** 2) return dec.format(n / 1024) + ' KiB';
  if (n < 1024 ** 3) return dec.format(n / 1024 ** 2) + ' MiB';
  return dec.format(n / 1024 ** 3) + ' GiB';
}

export function mib(v) {
  return v === null || v === undefined ? '—' : dec.format(Number(v) / 1024 ** 2) + ' MiB';
}

export function when(iso) {
  return iso ? dateTime.format(new Date(iso)) : '—';
}

export function clock(iso) {
  return iso ? timeOnly.format(new Date(iso)) : '—';
}

/** "3 min. ago", "in 2 hr." */
export function ago(iso, now = Date.now()) {
  if (!iso) return '—';
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 60) return relative.format(seconds, 'second');
  if (abs < 3600) return relative.format(Math.round(seconds / 60), 'minute');
  if (abs < 86400) return relative.format(Math.round(seconds / 3600), 'hour');
  return relative.format(Math.round(seconds / 86400), 'day');
}

/** A duration in seconds as "1 h 4 min", "3 min 5 s" or "12 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
  return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
}

/** An age since a time, as a duration ("4 min 2 s"). */
export function age(iso, now = Date.now()) {
  return iso ? duration((now - new Date(iso).getTime()) / 1000) : '—';
}

export const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'BUDGET_EXHAUSTED']);
export const STATES = ['QUEUED', 'SCHEDULED', 'RUNNING', 'PREEMPTED', 'SUCCEEDED', 'FAILED', 'CANCELLED', 'BUDGET_EXHAUSTED'];

/** Words for a machine reason such as WAITING_FOR_GPUS. */
export function reason(code) {
  if (!code) return '';
  const s = String(code).toLowerCase().replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}
