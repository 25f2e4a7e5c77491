// Sending one response to the submission API. The renderer (render.js) takes any function with this contract:
//   submit(body) -> Promise of one of
//     {outcome: 'stored', result}                 201 stored, or 200: an identical re-send (the UUID makes it idempotent)
//     {outcome: 'rejected', errors, detail}       422: problem details whose errors[].path name the fields
//     {outcome: 'busy', retryAfter}               429: too many responses from this connection; try later
//     {outcome: 'refused', status, detail}        400/403/404/409/413/415: it cannot be stored (e.g. the survey closed)
//     {outcome: 'unsent', status}                 no answer (offline) or a server error: send the same body again
// The field app passes its outbox instead.

/** POST each body as JSON to `url`, as an anonymous citizen: no cookie is sent (credentials 'omit'), so a staff
 *  session open in the same browser never turns a citizen's answer into a field interview, and no CSRF token is
 *  needed (an anonymous JSON request cannot be forged cross-site). */
export function httpSubmitter(url) {
  return function submit(body) {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, application/problem+json' };
    let status = 0;
    return fetch(url, { method: 'POST', headers, body: JSON.stringify(body), credentials: 'omit' })
      .then((response) => {
        status = response.status;
        return response.json().then((data) => ({ response, data }), () => ({ response, data: {} }));
      })
      .then(({ response, data }) => {
        if (status === 200 || status === 201) return { outcome: 'stored', result: data };
        if (status === 422) return { outcome: 'rejected', errors: data.errors || [], detail: data.detail || '' };
        if (status === 429) {
          return { outcome: 'busy', retryAfter: Number(response.headers.get('Retry-After')) || 60 };
        }
        if (status === 400 || status === 403 || status === 404 || status === 409 || status === 413 || status === 415) {
          return { outcome: 'refused', status, detail: data.detail || '' };
        }
        return { outcome: 'unsent', status };
      }, () => ({ outcome: 'unsent', status }));
  };
}
