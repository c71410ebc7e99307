import { useEffect, useMemo, useState } from "preact/hooks";
import { ApiError, type AspectRatio, type CreateBody, type Quality } from "../api";
import limits from "../limits.json";
import { plural } from "../format";
import { navigate } from "../router";
import { useApp } from "../state";
import { TemplatePicker, applyTemplate } from "./TemplatePicker";

type Duration = 5 | 10 | 15;
type Field = "prompt" | "durationSec" | "quality" | "seed" | "image" | "aspectRatio" | "negativePrompt" | "shots";
type FieldErrors = Partial<Record<Field | "form", string>> & { shot?: { index: number; message: string } };
const FIELDS: Field[] = ["prompt", "durationSec", "quality", "seed", "image", "aspectRatio", "negativePrompt", "shots"];
const QUALITIES: { quality: Quality; label: string; hint: string }[] = [
  { quality: "standard", label: "Standard", hint: "50 steps · the most detail" },
  { quality: "fast", label: "Fast", hint: "3 steps · a quick draft, same price" },
];
const RATIOS: { ratio: AspectRatio; label: string; hint: string }[] = [
  { ratio: "16:9", label: "Landscape", hint: "1280×704 · YouTube, desktop" },
  { ratio: "9:16", label: "Portrait", hint: "704×1280 · Shorts, Reels, TikTok" },
];

const creditsFor = (seconds: number) => seconds / limits.secondsPerCredit;
const numberFormat = new Intl.NumberFormat();

export function Create() {
  const { api, balance } = useApp();
  const [prompt, setPrompt] = useState("");
  const [duration, setDuration] = useState<Duration>(5);
  const [quality, setQuality] = useState<Quality>("standard");
  const [seed, setSeed] = useState("");
  const [image, setImage] = useState<File | null>(null);
  const [ratio, setRatio] = useState<AspectRatio | null>(null); // null: not chosen (an image's own orientation, else 16:9)
  const [imageRatio, setImageRatio] = useState<AspectRatio | null>(null);
  const [negative, setNegative] = useState("");
  const [storyboard, setStoryboard] = useState(false); // a shot list: one prompt per 5 s (10 and 15 s clips)
  const [shots, setShots] = useState<string[]>(["", "", ""]);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const [attemptKey, setAttemptKey] = useState(() => crypto.randomUUID());
  const preview = useMemo(() => (image ? URL.createObjectURL(image) : null), [image]);
  useEffect(() => () => { if (preview) URL.revokeObjectURL(preview); }, [preview]);

  const length = [...prompt.trim()].length; // characters as the server counts them (code points)
  const over = length - limits.promptMaxChars;
  const cost = creditsFor(duration);
  const shownRatio = ratio ?? (image ? imageRatio : null) ?? "16:9";
  const shotCount = duration / 5;
  const usingShots = storyboard && shotCount > 1;
  const ready = usingShots ? shots.slice(0, shotCount).every((s) => s.trim() !== "") : length > 0;
  const setShot = (index: number) => (value: string) =>
    change(setShots, "shots")(shots.map((old, n) => (n === index ? value : old)));

  const change = <T,>(setter: (v: T) => void, field: keyof FieldErrors) => (value: T) => {
    setter(value);
    setAttemptKey(crypto.randomUUID()); // a different request: a new key
    if (errors[field] || errors.form) setErrors({ ...errors, [field]: undefined, form: undefined });
  };

  const pickImage = (file: File | null) => {
    change(setImage, "image")(file);
    setImageRatio(null);
    if (file && !limits.imageTypes.includes(file.type)) setErrors({ image: "Use a PNG, JPEG or WebP image." });
    else if (file && file.size > limits.imageMaxBytes) setErrors({ image: `This image is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${limits.imageMaxBytes / 1048576} MB.` });
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    try {
      const fields: CreateBody = usingShots
        ? { durationSec: duration, shots: shots.slice(0, shotCount).map((text) => ({ prompt: text })) }
        : { prompt, durationSec: duration };
      if (quality !== "standard") fields.quality = quality;
      if (seed.trim() !== "") fields.seed = Number(seed);
      if (ratio) fields.aspectRatio = ratio;
      if (negative.trim() !== "") fields.negativePrompt = negative;
      let body: FormData | CreateBody = fields;
      if (image) {
        body = new FormData();
        for (const [name, value] of Object.entries(fields)) if (name !== "shots") body.set(name, String(value));
        for (const shot of fields.shots ?? []) body.append("shots", shot.prompt); // a form repeats the field
        body.set("image", image);
      }
      const created = await api.create(body, attemptKey);
      navigate(`/jobs/${created.jobId}`);
    } catch (caught) {
      const error = caught instanceof ApiError ? caught : new ApiError(0, "client", String(caught));
      const [field, index] = (error.field ?? "").split(".");
      if (field === "shots" && index !== undefined) {
        setErrors({ shot: { index: Number(index), message: error.message } });
      } else {
        const key = ((FIELDS as string[]).includes(field) ? field : field === "imageUrl" ? "image" : "form") as Field | "form";
        setErrors({ [key]: error.message });
      }
      setBusy(false);
    }
  };

  return (
    <div class="page narrow">
      <p class="eyebrow">New video</p>
      <h1 class="display">What should we film?</h1>
      <form class="card create-form" onSubmit={submit} noValidate>
        <div class="prompt-mode segmented two" role="radiogroup" aria-label="Prompt or storyboard" data-testid="prompt-mode">
          <label class={`segment ${!usingShots ? "selected" : ""}`}>
            <input type="radio" name="promptMode" value="one" checked={!usingShots} onChange={() => setStoryboard(false)} />
            <span class="segment-main">One prompt</span>
            <span class="segment-sub">the whole clip</span>
          </label>
          <label class={`segment ${usingShots ? "selected" : ""}`}>
            <input type="radio" name="promptMode" value="shots" checked={usingShots}
              onChange={() => { setStoryboard(true); if (duration === 5) change(setDuration, "durationSec")(10 as Duration); }} />
            <span class="segment-main">Shot list</span>
            <span class="segment-sub">a prompt per 5 s (10 or 15 s)</span>
          </label>
        </div>
        {usingShots ? (
          <fieldset class={`field shots ${errors.shots ? "invalid" : ""}`} data-testid="shot-list">
            <legend>Shots <span class="muted">({shotCount} × 5 s, each starting where the one before ends)</span></legend>
            {shots.slice(0, shotCount).map((text, index) => (
              <div class={`shot ${errors.shot?.index === index ? "invalid" : ""}`} key={index}>
                <label for={`shot-${index}`} class="small">Shot {index + 1} · {index * 5}–{index * 5 + 5} s</label>
                <textarea id={`shot-${index}`} name={`shot-${index}`} rows={2} value={text}
                  onInput={(e) => setShot(index)(e.currentTarget.value)} placeholder={index === 0 ? "A door creaks open…" : "Then…"} />
                {errors.shot?.index === index && <p class="field-error" role="alert" data-testid={`error-shot-${index}`}>{errors.shot.message}</p>}
              </div>
            ))}
            {errors.shots && <p class="field-error" role="alert" data-testid="error-shots">{errors.shots}</p>}
          </fieldset>
        ) : (<>
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
        </>)}

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

        <fieldset class={`field ${errors.quality ? "invalid" : ""}`}>
          <legend>Quality</legend>
          <div class="segmented two" role="radiogroup" data-testid="quality">
            {QUALITIES.map(({ quality: value, label, hint }) => (
              <label class={`segment ${quality === value ? "selected" : ""}`} key={value}>
                <input type="radio" name="quality" value={value} checked={quality === value}
                  onChange={() => change(setQuality, "quality")(value)} />
                <span class="segment-main">{label}</span>
                <span class="segment-sub">{hint}</span>
              </label>
            ))}
          </div>
          {errors.quality && <p class="field-error" role="alert" data-testid="error-quality">{errors.quality}</p>}
        </fieldset>

        <fieldset class={`field ${errors.aspectRatio ? "invalid" : ""}`}>
          <legend>Frame</legend>
          <div class="segmented two" role="radiogroup" data-testid="ratio">
            {RATIOS.map(({ ratio: value, label, hint }) => (
              <label class={`segment ratio-choice ${shownRatio === value ? "selected" : ""}`} key={value}>
                <input type="radio" name="aspectRatio" value={value} checked={shownRatio === value}
                  onChange={() => change(setRatio, "aspectRatio")(value)} />
                <span class={`frame-shape ${value === "9:16" ? "portrait" : "landscape"}`} aria-hidden="true" data-testid={`frame-${value}`}>
                  {preview && <img src={preview} alt="" />}
                </span>
                <span class="segment-main">{value} {label}</span>
                <span class="segment-sub">{hint}</span>
              </label>
            ))}
          </div>
          <p class="muted small" data-testid="ratio-note">
            {image && !ratio ? "Follows your image's orientation; pick one to crop the image to it (centre, never stretched)."
              : image ? "Your image is cropped to this frame from the centre; it is never stretched." : "The shape of the clip."}
          </p>
          {errors.aspectRatio && <p class="field-error" role="alert" data-testid="error-aspectRatio">{errors.aspectRatio}</p>}
        </fieldset>

        <div class={`field ${errors.image ? "invalid" : ""}`}>
          <span class="label">Starting image <span class="muted">(optional)</span></span>
          {preview ? (
            <div class="image-preview">
              <img src={preview} alt="The image the video starts from"
                onLoad={(e) => setImageRatio(e.currentTarget.naturalHeight > e.currentTarget.naturalWidth ? "9:16" : "16:9")} />
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

        <details class="advanced" open={Boolean(errors.negativePrompt) || undefined}>
          <summary>Advanced</summary>
          <div class={`field ${errors.negativePrompt ? "invalid" : ""}`}>
            <label for="negativePrompt">Negative prompt <span class="muted">(optional)</span></label>
            <textarea id="negativePrompt" name="negativePrompt" rows={3} value={negative}
              onInput={(e) => change(setNegative, "negativePrompt")(e.currentTarget.value)}
              placeholder="blurry, text, watermark, extra fingers…" aria-describedby="negative-help" />
            <p id="negative-help" class="muted small">What the video should avoid. Left empty, the model uses its own list of common flaws.</p>
            {errors.negativePrompt && <p class="field-error" role="alert" data-testid="error-negativePrompt">{errors.negativePrompt}</p>}
          </div>
        </details>

        {errors.form && <p class="alert" role="alert" data-testid="error-form">{errors.form}</p>}
        <div class="actions">
          <button class="primary big" type="submit" disabled={busy || !ready}>
            {busy ? "Sending…" : `Render ${duration} s · ${plural(cost, "credit")}`}
          </button>
        </div>
      </form>
    </div>
  );
}
