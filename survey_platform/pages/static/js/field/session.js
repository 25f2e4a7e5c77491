// Signing in and out, and what the phone keeps to work offline.
//
// Sign-in uses POST /api/v1/auth/login and keeps the bearer token in IndexedDB (FieldCore meta 'session'): scripts
// can read it after a reload, a closed tab or days offline, which the HttpOnly session cookie would not allow, and a
// bearer request needs no CSRF token (a browser never adds the header by itself). The app sends no cookie at all
// (credentials: 'omit'). A token that the server no longer accepts (expired, signed out elsewhere) marks the session
// expired: the app asks to sign in again and keeps every draft and queued item.
//
// After sign-in (and whenever the app starts online) the phone fetches what it needs to work offline: the
// assignments, each campaign's questionnaire, each inspection's venue list and the follow-up audits of its venues.

import './core.js';

const { FieldCore } = self;

/** The session kept on the phone, or null. */
export function loadSession() {
  return FieldCore.getMeta('session');
}

/** Sign in; resolves with {session} or {problem: {status, detail, errors}}. */
export async function signIn(username, password) {
  const reply = await FieldCore.api(null, '/api/v1/auth/login', { method: 'POST', json: { username, password } });
  if (reply.status !== 200 || !reply.data) return { problem: FieldCore.problemOf(reply) };
  const data = reply.data;
  const session = {
    token: data.token,
    account: data.account,
    expires_at: new Date(Date.now() + data.expires_in * 1000).toISOString(),
    signed_in_at: new Date().toISOString(),
    expired: false,
  };
  await FieldCore.setMeta('session', session);
  await FieldCore.setMeta('last_account', { username: data.account.username });
  return { session };
}

/** Sign out: the server ends the session when it can be reached; the phone forgets the token, never the items. */
export async function signOut(session) {
  if (session && session.token && !session.expired) {
    await FieldCore.api(session, '/api/v1/auth/logout', { method: 'POST' });
  }
  await FieldCore.setMeta('session', null);
}

async function expire(session) {
  session.expired = true;
  await FieldCore.setMeta('session', session);
}

/**
 * Fetch what the phone needs to work offline; resolves with {status: 'done' | 'offline' | 'expired', complete}.
 * Whatever was fetched before stays when the network fails half-way.
 */
export async function refreshData(session) {
  const assignments = await FieldCore.api(session, '/api/v1/field/assignments');
  if (assignments.status === 401) {
    await expire(session);
    return { status: 'expired', complete: false };
  }
  if (assignments.status !== 200) return { status: 'offline', complete: false };
  await FieldCore.setMeta('assignments', Object.assign({}, assignments.data, { fetched_at: new Date().toISOString() }));
  for (const campaign of assignments.data.campaigns) {
    if (!(await FieldCore.get('questionnaires', campaign.questionnaire_version))) {
      const version = await FieldCore.api(session, `/api/v1/questionnaires/${campaign.questionnaire_version}`);
      if (version.status !== 200 || !version.data || !version.data.client) return { status: 'offline', complete: false };
      await FieldCore.put('questionnaires', { version: campaign.questionnaire_version, client: version.data.client });
    }
    if (campaign.venues) {
      const venues = await FieldCore.api(session, campaign.venues);
      if (venues.status !== 200) return { status: 'offline', complete: false };
      await FieldCore.put('venues', { campaign: campaign.code, venues: venues.data, fetched_at: new Date().toISOString() });
      for (const venue of venues.data.filter((v) => v.last_visit)) {
        const known = await FieldCore.get('followups', venue.id);
        if (known && known.followup.audit === venue.last_visit.audit) continue;
        const followup = await FieldCore.api(session, `/api/v1/field/venues/${venue.id}/last-audit`);
        if (followup.status === 200) await FieldCore.put('followups', { venue: venue.id, followup: followup.data });
      }
    }
  }
  await FieldCore.setMeta('data', { at: new Date().toISOString(), complete: true });
  return { status: 'done', complete: true };
}

/** Whether everything the assignments need is on the phone (questionnaires, venue lists). */
export async function dataReady() {
  const assignments = await FieldCore.getMeta('assignments');
  if (!assignments) return false;
  for (const campaign of assignments.campaigns) {
    if (!(await FieldCore.get('questionnaires', campaign.questionnaire_version))) return false;
    if (campaign.venues && !(await FieldCore.get('venues', campaign.code))) return false;
  }
  return true;
}

/** Ask the browser to keep this app's storage (not cleared under storage pressure); resolves with whether it is. */
export async function keepStorage() {
  if (!navigator.storage || typeof navigator.storage.persist !== 'function') return false;
  try {
    if (await navigator.storage.persisted()) return true;
    return await navigator.storage.persist();
  } catch (error) {
    return false;
  }
}

/** {usage, quota, persisted} of this site's storage, or null where the browser does not say. */
export async function storageUse() {
  if (!navigator.storage || typeof navigator.storage.estimate !== 'function') return null;
  try {
    const estimate = await navigator.storage.estimate();
    const persisted = typeof navigator.storage.persisted === 'function' ? await navigator.storage.persisted() : false;
    return { usage: estimate.usage || 0, quota: estimate.quota || 0, persisted };
  } catch (error) {
    return null;
  }
}
