// The citizen survey page (/s/{campaign}/{city}): reads the page's data block and mounts the renderer with a draft in
// localStorage and the submission API. Nothing else runs on the page; nothing is fetched from another host.

import { localDraftStore } from './survey/drafts.js';
import { mountSurvey } from './survey/render.js';
import { httpSubmitter } from './survey/send.js';

const dataBlock = document.getElementById('survey-data');
const root = document.getElementById('survey-root');
if (dataBlock && root) {
  const data = JSON.parse(dataBlock.textContent);
  root.removeAttribute('aria-busy');
  window.survey = mountSurvey(root, {
    questionnaire: data.questionnaire,
    lang: data.lang,
    strings: data.strings,
    store: localDraftStore(data.draft_key),
    submit: httpSubmitter(data.submit_url),
    fields: data.fields,
    selfCompleted: true,
    onScreen(name) {
      // the privacy promise is open before the first question and folded away (one tap to reopen) after it
      const box = document.getElementById('privacy-box');
      if (box) box.open = name === 'intro';
    },
  });
}
