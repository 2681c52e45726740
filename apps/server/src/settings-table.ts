/** Markdown table of an app's settings (kept in kit so every app's docs test shares it). */
export { settingsTable } from '@fusionflow/kit';
