package app.lookalike.search

import android.content.Intent
import android.net.Uri
import android.os.Build
import android.os.Bundle
import android.os.Environment
import android.provider.OpenableColumns
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
    receiveShare(intent)
  }

  // launchMode singleTask: a share while the app runs arrives here
  override fun onNewIntent(intent: Intent) {
    super.onNewIntent(intent)
    setIntent(intent)
    receiveShare(intent)
  }

  /** Rust (src-tauri/src/mobile.rs): the shared photo's name and bytes, for the UI to search. */
  private external fun shareImage(name: String, bytes: ByteArray)

  /** Rust: a shared photo that could not be read, and why. */
  private external fun shareRefused(message: String)

  /**
   * A photo shared from another app (the share sheet's ACTION_SEND with an image/ type): its
   * bytes are read off the main thread through the content resolver (the sender grants this app
   * a read permission on the URI) and handed to Rust; the web view asks for them when it is
   * visible again (ui/src/main.ts searchShared). At most the search's 40 MB.
   */
  private fun receiveShare(intent: Intent?) {
    if (intent?.action != Intent.ACTION_SEND || intent.type?.startsWith("image/") != true) return
    val uri: Uri? = if (Build.VERSION.SDK_INT >= 33) {
      intent.getParcelableExtra(Intent.EXTRA_STREAM, Uri::class.java)
    } else {
      @Suppress("DEPRECATION") intent.getParcelableExtra(Intent.EXTRA_STREAM)
    }
    if (uri == null) return
    Thread {
      val name = displayName(uri) ?: "shared photo"
      try {
        val bytes = contentResolver.openInputStream(uri)?.use { input ->
          val out = java.io.ByteArrayOutputStream()
          val buf = ByteArray(1 shl 16)
          var total = 0L
          while (true) {
            val n = input.read(buf)
            if (n < 0) break
            total += n
            if (total > MAX_SHARED_BYTES) {
              shareRefused("$name is over the ${MAX_SHARED_BYTES shr 20} MB limit")
              return@Thread
            }
            out.write(buf, 0, n)
          }
          out.toByteArray()
        }
        if (bytes == null) shareRefused("$name could not be opened") else shareImage(name, bytes)
      } catch (e: Exception) {
        shareRefused("$name could not be read: ${e.message}")
      }
    }.start()
  }

  private fun displayName(uri: Uri): String? =
    try {
      contentResolver.query(uri, arrayOf(OpenableColumns.DISPLAY_NAME), null, null, null)?.use { c ->
        if (c.moveToFirst()) c.getString(0) else null
      }
    } catch (e: Exception) {
      null
    }

  companion object {
    /** The search's limit (src-tauri/src/commands.rs MAX_IMAGE_BYTES). */
    private const val MAX_SHARED_BYTES = 40L * 1024 * 1024
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
