import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError } from "../api";
import limits from "../limits.json";
import { plural } from "../format";
import { navigate } from "../router";
import { useApp } from "../state";
import { TemplatePicker, applyTemplate } from "./TemplatePicker";

type Duration = 5 | 10 | 15;
type FieldErrors = Partial<Record<"prompt" | "durationSec" | "seed" | "image" | "form", string>>;

const creditsFor = (seconds: number) => seconds / limits.secondsPerCredit;
const numberFormat = new Intl.NumberFormat();

export function Create() {
  const { api, balance } = useApp();
  const [prompt, setPrompt] = useState("");
  const [duration, setDuration] = useState<Duration>(5);
  const [seed, setSeed] = useState("");
  const [image, setImage] = useState<File | null>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const [attemptKey, setAttemptKey] = useState(() => crypto.randomUUID());
  const preview = useMemo(() => (image ? URL.createObjectURL(image) : null), [image]);
  useEffect(() => () => { if (preview) URL.revokeObjectURL(preview); }, [preview]);

  const length = [...prompt.trim()].length; // characters as the server counts them (code points)
  const over = length - limits.promptMaxChars;
  const cost = creditsFor(duration);

  const change = <T,>(setter: (v: T) => void, field: keyof FieldErrors) => (value: T) => {
    setter(value);
    setAttemptKey(crypto.randomUUID()); // a different request: a new key
    if (errors[field] || errors.form) setErrors({ ...errors, [field]: undefined, form: undefined });
  };

  const pickImage = (file: File | null) => {
    change(setImage, "image")(file);
    if (file && !limits.imageTypes.includes(file.type)) setErrors({ image: "Use a PNG, JPEG or WebP image." });
    else if (file && file.size > limits.imageMaxBytes) setErrors({ image: `This image is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${limits.imageMaxBytes / 1048576} MB.` });
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const seedValue = seed.trim() === "" ? undefined : Number(seed);
      let body: FormData | { prompt: string; durationSec: number; seed?: number };
      if (image) {
        body = new FormData();
        body.set("prompt", prompt);
        body.set("durationSec", String(duration));
        if (seedValue !== undefined) body.set("seed", String(seedValue));
        body.set("image", image);
      } else {
        body = { prompt, durationSec: duration, ...(seedValue !== undefined ? { seed: seedValue } : {}) };
      }
      const created = await api.create(body, attemptKey);
      navigate(`/jobs/${created.jobId}`);
    } catch (caught) {
      const error = caught instanceof ApiError ? caught : new ApiError(0, "client", String(caught));
      const field = (error.field ?? "").split(".")[0];
      const key = (["prompt", "durationSec", "seed", "image"].includes(field) ? field : field === "imageUrl" ? "image" : "form") as keyof FieldErrors;
      setErrors({ [key]: error.message });
      setBusy(false);
    }
  };

  return (
    <div class="page narrow">
      <p class="eyebrow">New video</p>
      <h1 class="display">What should we film?</h1>
      <form class="card create-form" onSubmit={submit} noValidate>
        <TemplatePicker onPick={(template) => change(setPrompt, "prompt")(applyTemplate(prompt, template))} />
        <div class={`field ${errors.prompt ? "invalid" : ""}`}>
          <label for="prompt">Prompt</label>
          <textarea
            id="prompt"
            name="prompt"
            rows={6}
            value={prompt}
            onInput={(e) => change(setPrompt, "prompt")(e.currentTarget.value)}
            placeholder="A lighthouse on a cliff at dusk, waves crashing, slow dolly in, volumetric fog…"
            aria-describedby="prompt-count prompt-error"
            aria-invalid={errors.prompt ? true : undefined}
            required
          />
          <div class="field-foot">
            <span id="prompt-count" class={`count ${over > 0 ? "over" : length > limits.promptMaxChars * 0.9 ? "near" : ""}`} data-testid="prompt-count" aria-live="polite">
              {numberFormat.format(length)} / {numberFormat.format(limits.promptMaxChars)}
              {over > 0 && ` — ${numberFormat.format(over)} over the limit`}
            </span>
          </div>
          {errors.prompt && <p id="prompt-error" class="field-error" role="alert" data-testid="error-prompt">{errors.prompt}</p>}
        </div>

        <fieldset class={`field ${errors.durationSec ? "invalid" : ""}`}>
          <legend>Clip length</legend>
          <div class="segmented" role="radiogroup">
            {limits.durations.map((seconds) => (
              <label class={`segment ${duration === seconds ? "selected" : ""}`} key={seconds}>
                <input type="radio" name="durationSec" value={seconds} checked={duration === seconds} onChange={() => change(setDuration, "durationSec")(seconds as Duration)} />
                <span class="segment-main">{seconds} s</span>
                <span class="segment-sub">{plural(creditsFor(seconds), "credit")}</span>
              </label>
            ))}
          </div>
          <p class="muted small" data-testid="cost">
            Costs <strong>{plural(cost, "credit")}</strong>
            {balance !== null && <> · you have {plural(balance, "credit")}{balance < cost && <span class="warn"> — not enough</span>}</>}
          </p>
          {errors.durationSec && <p class="field-error" role="alert">{errors.durationSec}</p>}
        </fieldset>

        <div class={`field ${errors.image ? "invalid" : ""}`}>
          <span class="label">Starting image <span class="muted">(optional)</span></span>
          {preview ? (
            <div class="image-preview">
              <img src={preview} alt="The image the video starts from" />
              <div>
                <p class="small">{image?.name} · {((image?.size ?? 0) / 1024).toFixed(0)} KB</p>
                <button type="button" class="ghost small" onClick={() => pickImage(null)}>Remove image</button>
              </div>
            </div>
          ) : (
            <label class="dropzone">
              <input type="file" name="image" accept={limits.imageTypes.join(",")} onChange={(e) => pickImage(e.currentTarget.files?.[0] ?? null)} />
              <span>Choose a PNG, JPEG or WebP</span>
              <span class="muted small">up to {limits.imageMaxBytes / 1048576} MB and {limits.imageMaxSidePx} px a side; the video starts from it</span>
            </label>
          )}
          {errors.image && <p class="field-error" role="alert" data-testid="error-image">{errors.image}</p>}
        </div>

        <div class={`field ${errors.seed ? "invalid" : ""}`}>
          <label for="seed">Seed <span class="muted">(optional)</span></label>
          <input id="seed" name="seed" inputMode="numeric" value={seed} placeholder="random" onInput={(e) => change(setSeed, "seed")(e.currentTarget.value.replace(/[^0-9]/g, ""))} />
          <p class="muted small">The same prompt and seed give the same video. 0 – {numberFormat.format(limits.seedMax)}.</p>
          {errors.seed && <p class="field-error" role="alert" data-testid="error-seed">{errors.seed}</p>}
        </div>

        {errors.form && <p class="alert" role="alert" data-testid="error-form">{errors.form}</p>}
        <div class="actions">
          <button class="primary big" type="submit" disabled={busy || length === 0}>
            {busy ? "Sending…" : `Render ${duration} s · ${plural(cost, "credit")}`}
          </button>
        </div>
      </form>
    </div>
  );
}
