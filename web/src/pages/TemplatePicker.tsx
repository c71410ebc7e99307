// Start from a curated template (GET /templates): a subject fills the prompt, a camera move,
// light or style is added to what is there. The user edits the result like any prompt.
import { useEffect, useState } from "preact/hooks";
import type { PromptTemplate } from "../api";
import { useApp } from "../state";

const KINDS: { kind: PromptTemplate["kind"]; label: string }[] = [
  { kind: "subject", label: "Subject" },
  { kind: "camera", label: "Camera move" },
  { kind: "lighting", label: "Lighting" },
  { kind: "style", label: "Style" },
];
const AUDIENCE: Record<PromptTemplate["audience"], string> = {
  social: "Social creators", education: "Educators", gamedev: "Indie game artists", any: "Any",
};

/** The prompt after applying ``template`` to ``prompt``. */
export function applyTemplate(prompt: string, template: PromptTemplate): string {
  if (template.kind === "subject" || prompt.trim() === "") return template.prompt;
  return `${prompt.trim().replace(/[,.\s]+$/, "")}, ${template.prompt}`;
}

export function TemplatePicker({ onPick }: { onPick: (template: PromptTemplate) => void }) {
  const { api } = useApp();
  const [templates, setTemplates] = useState<PromptTemplate[] | null>(null);
  useEffect(() => { api.templates().then((list) => setTemplates(list.templates)).catch(() => setTemplates([])); }, [api]);
  if (!templates || templates.length === 0) return null;

  const pick = (event: Event) => {
    const select = event.currentTarget as HTMLSelectElement;
    const template = templates.find((t) => t.templateId === select.value);
    select.value = "";
    if (template) onPick(template);
  };

  return (
    <div class="template-picker" data-testid="template-picker">
      <span class="label">Start from a template <span class="muted">(optional)</span></span>
      <div class="template-row">
        {KINDS.map(({ kind, label }) => {
          const ofKind = templates.filter((t) => t.kind === kind);
          const audiences = [...new Set(ofKind.map((t) => t.audience))];
          return (
            <select key={kind} name={`template-${kind}`} aria-label={label} onChange={pick} value="">
              <option value="">{label}…</option>
              {audiences.map((audience) => {
                const options = ofKind.filter((t) => t.audience === audience).map((t) => (
                  <option key={t.templateId} value={t.templateId}>{t.title}</option>
                ));
                return audience === "any" ? options : <optgroup key={audience} label={AUDIENCE[audience]}>{options}</optgroup>;
              })}
            </select>
          );
        })}
      </div>
    </div>
  );
}
