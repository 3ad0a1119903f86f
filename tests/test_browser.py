"""The web page in a real browser (issue 16): headless Debian Chromium driven by Selenium.

The real app (``lift3d.server.app.create_app``) is served by uvicorn on a free loopback port in a background
thread. Chromium is the system one (``/usr/bin/chromium``) with the system ``/usr/bin/chromedriver`` given
explicitly, so Selenium Manager never downloads a browser or a driver; software WebGL is SwiftShader. Every host
name except 127.0.0.1 resolves to nothing, so the page cannot fetch from the internet, and the test checks that
every resource it loaded came from the server. Writes ``docs/web_app.png``.
"""

from __future__ import annotations

import base64
import io
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "src" / "lift3d" / "samples" / "car.jpg"
SCREENSHOT = ROOT / "docs" / "web_app.png"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
INSTALL = "LIFT3D_WITH_BROWSER=1 bash scripts/setup_system.sh"

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    pytest.skip(f"Debian chromium and chromium-driver are not installed ({INSTALL})", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[dev]')")

from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def base_url():
    """The real app on 127.0.0.1:<free port>, served by uvicorn in a thread -> its base URL."""
    import uvicorn

    from lift3d.server.app import create_app
    from lift3d.server.settings import Settings

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = create_app(Settings(workers=1, preload=False))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=20)
    sock.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless system Chromium at 1280x800 with software WebGL; downloads go to a temporary folder."""
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never reach the network
    downloads = tmp_path_factory.mktemp("downloads")
    options = Options()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800",
                "--force-device-scale-factor=1", "--hide-scrollbars", "--use-angle=swiftshader",
                "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", "--no-first-run", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    viewport(driver, 1280, 800)
    yield driver
    driver.quit()


def viewport(driver, width: int, height: int, mobile: bool = False) -> None:
    """Make the page's viewport exactly ``width`` x ``height`` CSS pixels (scale 1)."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def wait(driver, condition, timeout: float, what: str):
    """Wait for ``condition(driver)``; on timeout say what was awaited and what the page shows."""
    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)
    except Exception as exc:
        page = driver.execute_script(
            "return [document.body.dataset.state, document.getElementById('error').textContent,"
            " document.getElementById('stage').textContent].join(' | ')")
        raise AssertionError(f"timed out waiting for {what}; page: {page}") from exc


def viewer_image(driver) -> np.ndarray:
    """What model-viewer draws now, as RGBA uint8 (H, W, 4); its background is transparent."""
    url = driver.execute_script("return document.getElementById('viewer').toDataURL('image/png')")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGBA"))


def test_page_reconstructs_orbits_and_downloads(base_url, browser):
    driver = browser
    driver.get(base_url)
    wait(driver, lambda d: d.execute_script("return !!customElements.get('model-viewer')"), 20,
         "model-viewer to load (vendored script)")
    wait(driver, lambda d: d.find_element(By.ID, "model").get_attribute("value"), 20, "the model list")
    assert driver.find_element(By.ID, "model-desc").text, "the chosen model's description is shown"
    assert "ready" in driver.find_element(By.ID, "health").text

    # Upload the sample photo through the file picker: a preview appears and the page says which mask it uses.
    driver.find_element(By.ID, "files").send_keys(str(SAMPLE))
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#previews img"), 10, "the photo preview")
    assert "Mask: automatic" in driver.find_element(By.ID, "views-note").text
    go = driver.find_element(By.ID, "go")
    assert go.is_enabled()

    # A bad option comes back as the API's one-line 422 message, shown plainly.
    size = driver.find_element(By.ID, "size")
    size.send_keys("banana")
    go.click()
    wait(driver, lambda d: d.find_element(By.ID, "error").is_displayed(), 20, "the 422 message")
    message = driver.find_element(By.ID, "error").text
    assert message and "{" not in message and "422" not in message, message
    size.clear()

    # Reconstruct; wait for the job, then for model-viewer's load of the result.
    t0 = time.monotonic()
    driver.find_element(By.ID, "go").click()
    wait(driver, lambda d: d.execute_script("return document.getElementById('viewer').loaded === true"
                                            " && document.body.dataset.state === 'loaded'"), 60,
         "the reconstruction and the viewer's load event")
    elapsed = time.monotonic() - t0
    assert not driver.find_element(By.ID, "error").is_displayed()
    summary = driver.find_element(By.ID, "summary").text
    assert "check:" in summary, summary

    # Stop the turntable (toggle button), then the viewer drew the model: non-background pixels.
    rotate = driver.find_element(By.ID, "rotate")
    rotate.click()
    assert rotate.get_attribute("aria-pressed") == "false"
    assert driver.execute_script("return document.getElementById('viewer').autoRotate") is False
    wait(driver, lambda d: (viewer_image(d)[..., 3] > 0).mean() > 0.02, 10, "the viewer to draw the model")
    before = viewer_image(driver)
    drawn = before[..., 3] > 0
    assert drawn.mean() > 0.02, f"the viewer drew {drawn.mean():.2%} of its pixels"
    assert before[drawn][:, :3].std() > 5, "the model is shaded, not one flat colour"

    # Orbit with the mouse (drag) and with the keyboard (arrow keys on the focused viewer): the view changes.
    def theta():
        return driver.execute_script("return document.getElementById('viewer').getCameraOrbit().theta")

    viewer = driver.find_element(By.ID, "viewer")
    theta0 = theta()
    ActionChains(driver).move_to_element(viewer).click_and_hold().move_by_offset(160, 10).release().perform()
    wait(driver, lambda d: abs(theta() - theta0) > 0.2, 10, "the drag to orbit the camera")
    theta1 = theta()
    viewer.send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    wait(driver, lambda d: abs(theta() - theta1) > 0.05, 10, "the arrow keys to orbit the camera")
    driver.execute_script("document.getElementById('viewer').jumpCameraToGoal()")
    time.sleep(0.3)
    after = viewer_image(driver)
    changed = np.abs(after.astype(int) - before.astype(int)).max(axis=-1) > 16
    assert changed.mean() > 0.005, f"orbiting changed {changed.mean():.2%} of the pixels"

    # The plain view: the page asks for the same photo with texture=none once, then shows that GLB.
    textured_src = viewer.get_attribute("src")
    driver.find_element(By.ID, "view-plain").click()
    wait(driver, lambda d: viewer.get_attribute("src") != textured_src
         and d.execute_script("return document.body.dataset.state === 'loaded'"), 40, "the plain mesh view")
    assert driver.find_element(By.ID, "view-plain").get_attribute("aria-pressed") == "true"
    wait(driver, lambda d: (viewer_image(d)[..., 3] > 0).mean() > 0.02, 10, "the viewer to draw the plain mesh")
    # Points and voxels: GLBs of small spheres and cubes made by the server from the same result.
    for kind in ("points", "voxels"):
        driver.find_element(By.ID, f"view-{kind}").click()
        wait(driver, lambda d, k=kind: f"/view/{k}.glb" in (viewer.get_attribute("src") or "")
             and d.execute_script("return document.body.dataset.state === 'loaded'"), 30, f"the {kind} view")
        wait(driver, lambda d: (viewer_image(d)[..., 3] > 0).mean() > 0.01, 10, f"the viewer to draw the {kind}")
    driver.find_element(By.ID, "view-textured").click()
    wait(driver, lambda d: viewer.get_attribute("src") == textured_src
         and d.execute_script("return document.body.dataset.state === 'loaded'"), 20, "the textured view again")

    # Download the GLB by clicking its button: a real browser download, which trimesh loads as a mesh.
    import trimesh

    link = driver.find_element(By.CSS_SELECTOR, "#downloads a[data-format='glb']")
    assert {a.get_attribute("data-format") for a in driver.find_elements(By.CSS_SELECTOR, "#downloads a")} >= {
        "glb", "obj", "ply", "stl"}
    link.click()
    wait(driver, lambda d: [p for p in driver.downloads.iterdir() if p.suffix == ".glb"], 20, "the GLB download")
    glb = next(p for p in driver.downloads.iterdir() if p.suffix == ".glb")
    mesh = trimesh.load(glb, force="mesh")
    assert len(mesh.faces) > 100

    # Nothing came from anywhere but this server.
    urls = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    foreign = [u for u in urls if not u.startswith(base_url) and not u.startswith(("data:", "blob:"))]
    assert not foreign, foreign

    # No script error on the console (the refused request above logs its 422, which is expected).
    errors = [e["message"] for e in driver.get_log("browser")
              if e["level"] == "SEVERE" and "status of 422" not in e["message"]]
    assert not errors, errors

    # The screenshot for docs/: the page at 1280x800 with the model at a pleasant angle.
    ActionChains(driver).move_to_element(driver.find_element(By.CSS_SELECTOR, "header h1")).perform()
    driver.execute_script("document.getElementById('rotate').click(); document.getElementById('reset').click();"
                          " document.activeElement.blur(); window.scrollTo(0, 0)")
    time.sleep(0.5)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    driver.save_screenshot(str(SCREENSHOT))
    assert Image.open(SCREENSHOT).size == (1280, 800)
    assert elapsed < 90, f"reconstruction took {elapsed:.1f} s in the page"


def test_page_fits_a_phone(base_url, browser):
    """At 390 px wide nothing overflows sideways and the Reconstruct button is reachable."""
    driver = browser
    viewport(driver, 390, 844, mobile=True)
    try:
        driver.get(base_url)
        wait(driver, lambda d: d.find_element(By.ID, "model").get_attribute("value"), 20, "the model list")
        width = driver.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"page is {width[0]} px wide in a {width[1]} px window"
        # Keyboard: Tab from the top reaches the file picker, then the model select.
        order = []
        for _ in range(6):
            ActionChains(driver).send_keys(Keys.TAB).perform()
            order.append(driver.switch_to.active_element.get_attribute("id"))
        assert "files" in order and "model" in order, order
    finally:
        viewport(driver, 1280, 800)


DROP = """
const [names, datas] = arguments;
const transfer = new DataTransfer();
names.forEach((name, i) => {
  const bytes = Uint8Array.from(atob(datas[i]), (c) => c.charCodeAt(0));
  transfer.items.add(new File([bytes], name, {type: "image/png"}));
});
document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true,
                                                                     cancelable: true}));
"""


def test_drop_views_masks_and_remove(base_url, browser):
    """Photos dropped on the drop zone: views of one object, the alpha mask named, a photo removed by keyboard."""
    driver = browser
    driver.get(base_url)
    wait(driver, lambda d: d.find_element(By.ID, "model").get_attribute("value"), 20, "the model list")
    samples = ROOT / "src" / "lift3d" / "samples"
    names = ["chair_view0.png", "chair_view1.png"]  # RGBA renders: transparent background
    datas = [base64.b64encode((samples / n).read_bytes()).decode() for n in names]
    driver.execute_script(DROP, names, datas)
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#previews li")) == 2, 10, "two previews")
    note = driver.find_element(By.ID, "views-note").text
    assert "2 views of one object" in note and "alpha channel" in note, note
    assert all("mask: alpha channel" in li.text for li in driver.find_elements(By.CSS_SELECTOR, "#previews li"))
    remove = driver.find_element(By.CSS_SELECTOR, "#previews li .remove")
    assert remove.get_attribute("aria-label") == "Remove chair_view0.png"
    remove.send_keys(Keys.ENTER)
    wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, "#previews li")) == 1, 10, "the photo removed")
    assert "One photo" in driver.find_element(By.ID, "views-note").text
    assert driver.find_element(By.ID, "go").is_enabled()
