package app.lookalike.search

import android.os.Bundle
import android.os.Environment
import android.view.View
import androidx.activity.enableEdgeToEdge
import androidx.core.view.ViewCompat
import androidx.core.view.WindowInsetsCompat

class MainActivity : TauriActivity() {
  override fun onCreate(savedInstanceState: Bundle?) {
    enableEdgeToEdge()
    super.onCreate(savedInstanceState)
    keepContentClearOfSystemBars()
    deleteOldCameraCaptures()
  }

  /**
   * Apps targeting Android 15+ draw edge to edge. Pad the content (the webview's parent) by the
   * status bar, navigation bar, display cutout and keyboard so the UI is laid out in the visible
   * area in portrait and landscape alike; the insets are consumed, so the page's
   * env(safe-area-inset-*) is 0 and nothing is padded twice.
   */
  private fun keepContentClearOfSystemBars() {
    val content = findViewById<View>(android.R.id.content)
    ViewCompat.setOnApplyWindowInsetsListener(content) { view, insets ->
      val bars = insets.getInsets(
        WindowInsetsCompat.Type.systemBars() or
          WindowInsetsCompat.Type.displayCutout() or
          WindowInsetsCompat.Type.ime()
      )
      view.setPadding(bars.left, bars.top, bars.right, bars.bottom)
      WindowInsetsCompat.CONSUMED
    }
  }

  /**
   * wry saves each camera capture as Pictures/JPEG_*.jpg in the app's external files folder and
   * never deletes it. The page has read the photo long before the next start: remove captures
   * older than an hour so shoppers' photos do not pile up on the phone.
   */
  private fun deleteOldCameraCaptures() {
    Thread {
      val dir = getExternalFilesDir(Environment.DIRECTORY_PICTURES) ?: return@Thread
      val cutoff = System.currentTimeMillis() - 60 * 60 * 1000L
      dir.listFiles { f -> f.isFile && f.name.startsWith("JPEG_") && f.name.endsWith(".jpg") }
        ?.filter { it.lastModified() < cutoff }
        ?.forEach { it.delete() }
    }.start()
  }
}
