// lift3d web page: photos -> POST api/reconstruct -> poll the job -> <model-viewer>. Plain JS, no build step.
// Runs before the vendored model-viewer (module scripts run in document order): model-viewer's optional
// Draco / KTX2 / Lottie decoders default to Google's and jsDelivr's CDNs; point them at this server so the
// page can never reach another host (lift3d's GLBs use none of those extensions).
self.ModelViewerElement = Object.assign(self.ModelViewerElement || {}, {
  dracoDecoderLocation: "static/vendor/unavailable/",
  ktx2TranscoderLocation: "static/vendor/unavailable/",
  lottieLoaderLocation: "static/vendor/unavailable/lottie.js",
});

const MAX_VIEWS = 8;
const POLL_MS = 400;
const FORMAT_INFO = {
  glb: "glTF binary: web, AR, engines",
  gltf: "glTF: web, engines",
  obj: "OBJ: Blender, most tools",
  ply: "PLY: mesh with colours",
  stl: "STL: 3D printing",
  off: "OFF: geometry only",
  usdz: "USDZ: Apple AR Quick Look",
  usda: "USD text",
  usdc: "USD binary",
  fbx: "FBX: engines",
  binvox: "binvox: voxel grid",
  npz: "NumPy arrays",
  xyz: "XYZ: point cloud",
};

const $ = (id) => document.getElementById(id);
const el = {
  files: $("files"), drop: $("drop"), previews: $("previews"), viewsNote: $("views-note"),
  form: $("form"), model: $("model"), modelDesc: $("model-desc"), modelCard: $("model-card"),
  cardBody: $("card-body"), format: $("format"), texture: $("texture"), go: $("go"),
  status: $("status"), progress: $("progress"), stage: $("stage"), error: $("error"),
  viewer: $("viewer"), textured: $("view-textured"), plain: $("view-plain"), rotate: $("rotate"),
  points: $("view-points"), voxels: $("view-voxels"),
  reset: $("reset"), downloads: $("downloads"), summary: $("summary"), timings: $("timings"),
  health: $("health"), viewNote: $("view-note"),
};
const state = { photos: [], models: [], busy: false, job: null, fields: null, plainUrl: null, view: "textured" };

function setState(name) { document.body.dataset.state = name; }

function showError(message) {
  el.error.textContent = message;
  el.error.hidden = !message;
  if (message) setState("error");
}

function escapeHtml(s) {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// A small, safe Markdown subset for model cards: headings, lists, paragraphs, `code`, **bold**, tables as text.
function renderMarkdown(md) {
  const inline = (s) => escapeHtml(s).replace(/`([^`]+)`/g, "<code>$1</code>").replace(/\*\*([^*]+)\*\*/g, "<b>$1</b>");
  const out = [];
  let list = false;
  let para = [];
  const flush = () => {
    if (para.length) out.push(`<p>${inline(para.join(" "))}</p>`);
    para = [];
    if (list) out.push("</ul>");
    list = false;
  };
  for (const raw of md.split("\n")) {
    const line = raw.trim();
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    const item = /^[-*]\s+(.*)$/.exec(line);
    if (!line) flush();
    else if (heading) {
      flush();
      const tag = heading[1].length < 2 ? "h4" : "h5";
      out.push(`<${tag}>${inline(heading[2])}</${tag}>`);
    }
    else if (item) {
      if (para.length) { out.push(`<p>${inline(para.join(" "))}</p>`); para = []; }
      if (!list) { out.push("<ul>"); list = true; }
      out.push(`<li>${inline(item[1])}</li>`);
    } else if (line.startsWith("|")) {
      if (!/^\|[\s:|-]+\|$/.test(line)) { flush(); out.push(`<p><code>${escapeHtml(line)}</code></p>`); }
    } else para.push(line);
  }
  flush();
  return out.join("");
}

// ---- photos ------------------------------------------------------------------------------------------------

// Which mask the server will use: the alpha channel when it is not fully opaque (min alpha < 250, as
// lift3d.data.preprocess decides), otherwise the automatic background mask.
async function inspect(file) {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, 256 / Math.max(bitmap.width, bitmap.height));
    const w = Math.max(1, Math.round(bitmap.width * scale));
    const h = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0, w, h);
    const data = ctx.getImageData(0, 0, w, h).data;
    let minAlpha = 255;
    for (let i = 3; i < data.length; i += 4) if (data[i] < minAlpha) minAlpha = data[i];
    const size = `${bitmap.width}×${bitmap.height}`;
    bitmap.close();
    return { size, mask: minAlpha < 250 ? "alpha channel" : "automatic" };
  } catch {
    return { size: "?", mask: "the browser cannot read it; the server will check it" };
  }
}

async function addFiles(list) {
  const incoming = [...list].filter((f) => !f.type || f.type.startsWith("image/"));
  const skipped = list.length - incoming.length;
  const room = MAX_VIEWS - state.photos.length;
  const taken = incoming.slice(0, Math.max(0, room));
  for (const file of taken) {
    state.photos.push({ file, url: URL.createObjectURL(file), info: await inspect(file) });
  }
  const notes = [];
  if (skipped) notes.push(`${skipped} file(s) skipped: not images.`);
  if (incoming.length > taken.length) notes.push(`At most ${MAX_VIEWS} views: kept the first ${MAX_VIEWS}.`);
  showError(notes.join(" "));
  if (!notes.length && document.body.dataset.state === "error") setState("idle");
  renderPhotos();
}

function removePhoto(index) {
  URL.revokeObjectURL(state.photos[index].url);
  state.photos.splice(index, 1);
  renderPhotos();
  el.files.focus();
}

function renderPhotos() {
  el.previews.replaceChildren();
  state.photos.forEach((photo, i) => {
    const li = document.createElement("li");
    const img = document.createElement("img");
    img.src = photo.url;
    img.alt = `Photo ${i + 1}: ${photo.file.name}`;
    const meta = document.createElement("div");
    meta.className = "meta";
    meta.innerHTML = `<b>${escapeHtml(photo.file.name)}</b>${photo.info.size}<br>mask: ${escapeHtml(photo.info.mask)}`;
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove ${photo.file.name}`);
    remove.addEventListener("click", () => removePhoto(i));
    li.append(img, meta, remove);
    el.previews.append(li);
  });
  const n = state.photos.length;
  const alpha = state.photos.filter((p) => p.info.mask === "alpha channel").length;
  const masks = alpha === n ? "each photo's alpha channel" : alpha ? `the alpha channel for ${alpha}, automatic for ${n - alpha}`
    : "automatic (background colour)";
  el.viewsNote.hidden = n === 0;
  el.drop.classList.toggle("compact", n > 0);
  el.viewsNote.textContent = n > 1
    ? `${n} views of one object: the model fuses them into one shape. Mask: ${masks}.`
    : `One photo. Mask: ${masks}.`;
  el.go.disabled = state.busy || n === 0 || !el.model.value;
}

// ---- models ------------------------------------------------------------------------------------------------

async function loadModels() {
  try {
    const response = await fetch("api/models");
    if (!response.ok) throw new Error(`${response.status}`);
    state.models = await response.json();
  } catch (err) {
    el.model.replaceChildren(new Option("no models (server unreachable)", ""));
    showError(`Could not list the models: ${err.message}`);
    return;
  }
  el.model.replaceChildren(...state.models.map((m) => new Option(m.name, m.name, m.default, m.default)));
  showModel();
}

function showModel() {
  const model = state.models.find((m) => m.name === el.model.value);
  el.modelDesc.textContent = model ? model.description || "" : "";
  el.modelCard.hidden = !(model && model.card);
  el.cardBody.innerHTML = model && model.card ? renderMarkdown(model.card) : "";
  const formats = model && model.formats && model.formats.length ? model.formats : ["glb"];
  const keep = formats.includes(el.format.value) ? el.format.value : formats.includes("glb") ? "glb" : formats[0];
  el.format.replaceChildren(...formats.map((f) => new Option(f.toUpperCase(), f, f === keep, f === keep)));
  renderPhotos();
}

// ---- jobs --------------------------------------------------------------------------------------------------

function formFields() {
  const data = new FormData(el.form);
  const fields = {};
  for (const [key, value] of data.entries()) if (String(value).trim()) fields[key] = String(value).trim();
  return fields;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function apiError(response) {
  let detail = "";
  try { detail = (await response.json()).detail; } catch { /* not JSON */ }
  if (typeof detail !== "string") detail = detail ? JSON.stringify(detail) : "";
  if (response.status === 413) return `Too large: ${detail || "the upload is over the server's limit"}`;
  if (response.status === 503) return `The server is busy: ${detail || "try again in a moment"}`;
  return detail || `The server answered ${response.status} ${response.statusText}`;
}

// Submit one job and poll it to the end -> the finished job (throws an Error with a plain message).
async function runJob(fields, label) {
  const body = new FormData();
  for (const photo of state.photos) body.append("images", photo.file, photo.file.name);
  for (const [key, value] of Object.entries(fields)) body.append(key, value);
  el.status.hidden = false;
  el.progress.removeAttribute("value");
  el.stage.textContent = `${label}: uploading ${state.photos.length} photo(s)…`;
  const response = await fetch("api/reconstruct", { method: "POST", body });
  if (!response.ok) throw new Error(await apiError(response));
  const { status_url: statusUrl } = await response.json();
  for (;;) {
    const poll = await fetch(statusUrl, { cache: "no-store" });
    if (!poll.ok) throw new Error(await apiError(poll));
    const job = await poll.json();
    const pct = Math.round(100 * (job.progress || 0));
    el.progress.value = job.progress || 0;
    el.stage.textContent = job.status === "queued" ? `${label}: waiting in the queue…`
      : `${label}: ${job.stage || job.status} (${pct} %)`;
    if (job.status === "done") return job;
    if (job.status === "failed") throw new Error(job.error || "the reconstruction failed");
    await sleep(POLL_MS);
  }
}

function setBusy(busy) {
  state.busy = busy;
  for (const control of el.form.elements) control.disabled = busy;
  el.files.disabled = busy;
  renderPhotos();
}

async function reconstruct(event) {
  event.preventDefault();
  if (!state.photos.length || state.busy) return;
  const fields = formFields();
  showError("");
  setBusy(true);
  setState("running");
  try {
    const job = await runJob(fields, "Reconstructing");
    state.job = job;
    state.fields = fields;
    state.plainUrl = fields.texture === "none" ? job.files.glb : null;
    el.stage.textContent = "Done: loading the model into the viewer…";
    el.progress.value = 1;
    showResult(job);
    showView("textured");
    // On a phone the viewer is below the form: bring the result into view.
    const box = el.viewer.getBoundingClientRect();
    if (box.top > window.innerHeight * 0.6) {
      const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      el.viewer.scrollIntoView({ behavior: smooth ? "smooth" : "auto", block: "center" });
    }
  } catch (err) {
    el.status.hidden = true;
    showError(err.message);
  } finally {
    setBusy(false);
  }
}

function showResult(job) {
  const files = job.files || {};
  el.downloads.replaceChildren();
  for (const [ext, url] of Object.entries(files)) {
    const a = document.createElement("a");
    a.href = url;
    a.setAttribute("download", "");
    a.dataset.format = ext;
    a.innerHTML = `<b>${escapeHtml(ext.toUpperCase())}</b><span>${escapeHtml(FORMAT_INFO[ext] || "download")}</span>`;
    a.setAttribute("aria-label", `Download ${ext.toUpperCase()}`);
    el.downloads.append(a);
  }
  if (!el.downloads.children.length) el.downloads.innerHTML = '<p class="hint">No files.</p>';
  el.summary.replaceChildren();
  for (const entry of job.summary || []) {
    const li = document.createElement("li");
    const [head, ...rest] = String(entry).split("\n");
    li.append(head);
    for (const line of rest) {
      const span = document.createElement("span");
      const text = line.trim();
      span.className = text.startsWith("check:") ? `check${/\b[A-Z]{2,}\b/.test(text) ? " warn" : ""}` : "";
      span.textContent = text;
      li.append(span);
    }
    el.summary.append(li);
  }
  el.timings.replaceChildren();
  for (const [name, seconds] of Object.entries(job.timings || {})) {
    const div = document.createElement("div");
    div.innerHTML = `<dt>${escapeHtml(name)}</dt><dd>${Math.round(seconds * 1000)} ms</dd>`;
    el.timings.append(div);
  }
  const mesh = Boolean(files.glb);
  el.textured.disabled = !mesh || state.fields.texture === "none";
  el.plain.disabled = !mesh;
  el.points.disabled = el.voxels.disabled = !mesh || !job.views;
  el.viewNote.textContent = mesh
    ? "Textured or plain mesh, the model's points (small spheres), or its voxels (32\u00b3 cubes)."
    : "This result has no mesh to show (points or voxels): use the downloads.";
}

// The textured view is the job's GLB; the plain view is the same request with texture=none (made once, on demand);
// points and voxels are GLBs of small spheres and cubes the server makes from the same result.
async function showView(view) {
  if (!state.job || !state.job.files.glb) return;
  if (state.fields.texture === "none" && view === "textured") view = "plain";
  state.view = view;
  for (const name of ["textured", "plain", "points", "voxels"]) {
    el[name].setAttribute("aria-pressed", String(view === name));
  }
  let url = state.job.files.glb;
  if ((view === "points" || view === "voxels") && state.job.views) url = state.job.views[view];
  if (view === "plain") {
    if (!state.plainUrl) {
      const job = state.job;
      setBusy(true);
      el.textured.disabled = el.plain.disabled = true;
      try {
        const plain = await runJob({ ...state.fields, texture: "none", format: "glb" }, "Plain mesh");
        if (state.job === job) state.plainUrl = plain.files.glb;
        el.stage.textContent = "Plain mesh ready.";
      } catch (err) {
        showError(`Plain mesh: ${err.message}`);
        return;
      } finally {
        setBusy(false);
        el.textured.disabled = state.fields.texture === "none";
        el.plain.disabled = false;
      }
      if (state.view !== "plain" || !state.plainUrl) return;
    }
    url = state.plainUrl;
  }
  if (el.viewer.getAttribute("src") !== url) {
    setState("loading");
    el.viewer.setAttribute("src", url);
  }
}

// ---- viewer ------------------------------------------------------------------------------------------------

el.viewer.addEventListener("load", () => {
  setState("loaded");
  $("empty").hidden = true;
  el.reset.disabled = false;
  el.status.hidden = true;
});
el.viewer.addEventListener("error", (event) => {
  const detail = event.detail && event.detail.type ? ` (${event.detail.type})` : "";
  showError(`The viewer could not show the model${detail}; the downloads still work.`);
});
el.rotate.addEventListener("click", () => {
  el.viewer.autoRotate = !el.viewer.autoRotate;
  el.rotate.setAttribute("aria-pressed", String(el.viewer.autoRotate));
});
el.reset.addEventListener("click", () => {
  el.viewer.cameraOrbit = "0deg 75deg 105%";
  el.viewer.cameraTarget = "auto auto auto";
  el.viewer.fieldOfView = "auto";
  if (el.viewer.resetTurntableRotation) el.viewer.resetTurntableRotation();
  if (el.viewer.jumpCameraToGoal) el.viewer.jumpCameraToGoal();
});
el.textured.addEventListener("click", () => showView("textured"));
el.plain.addEventListener("click", () => showView("plain"));
el.points.addEventListener("click", () => showView("points"));
el.voxels.addEventListener("click", () => showView("voxels"));

// ---- wiring ------------------------------------------------------------------------------------------------

el.files.addEventListener("change", async () => {
  await addFiles(el.files.files);
  el.files.value = "";
});
for (const name of ["dragenter", "dragover"]) {
  el.drop.addEventListener(name, (event) => { event.preventDefault(); el.drop.classList.add("over"); });
}
for (const name of ["dragleave", "drop"]) el.drop.addEventListener(name, () => el.drop.classList.remove("over"));
el.drop.addEventListener("drop", (event) => {
  event.preventDefault();
  if (!state.busy && event.dataTransfer) addFiles(event.dataTransfer.files);
});
// A photo dropped beside the drop zone must not make the browser navigate away from the page.
for (const name of ["dragover", "drop"]) document.addEventListener(name, (event) => event.preventDefault());
el.model.addEventListener("change", showModel);
el.form.addEventListener("submit", reconstruct);

fetch("health").then((r) => {
  el.health.textContent = r.ok ? "server ready" : `server: ${r.status}`;
  el.health.className = `pill ${r.ok ? "ok" : "bad"}`;
}).catch(() => { el.health.textContent = "server unreachable"; el.health.className = "pill bad"; });
loadModels();
