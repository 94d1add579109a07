// A grid editor for comparison tables, over the `|`-separated text box it replaces on screen.
//
// Progressive enhancement: the text box stays in the form and is what gets posted, so the server reads the
// same text as without this script (ComparisonForm.parse_grid).  Each grid is subjects (columns) ×
// attributes (rows): a cell per input, with buttons to add, remove and move rows and columns.  Before the
// form is sent, empty subject and attribute names are refused here, naming the row and column.
(function () {
  "use strict";
  var FIELD = /^comparisons-\d+-grid$/;

  function parse(text) {
    var rows = [];
    String(text || "")
      .split(/\r?\n/)
      .forEach(function (line) {
        line = line.trim();
        if (!line || /^[|\-: ]+$/.test(line)) return; // blank lines and Markdown's |---| rule
        var cells = line
          .replace(/\\\|/g, "\u0000")
          .replace(/^\|+|\|+$/g, "")
          .split("|")
          .map(function (cell) {
            return cell.replace(/\u0000/g, "|").trim();
          });
        rows.push(cells);
      });
    var width = Math.max(2, rows.reduce(function (most, row) { return Math.max(most, row.length); }, 0));
    while (rows.length < 2) rows.push([]);
    return rows.map(function (row) {
      while (row.length < width) row.push("");
      return row;
    });
  }

  function serialise(rows) {
    return rows
      .map(function (row) {
        return "| " + row.map(function (cell) { return cell.replace(/[\r\n]+/g, " ").replace(/\|/g, "\\|"); }).join(" | ") + " |";
      })
      .join("\n");
  }

  function button(text, label, action) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "grid-button";
    b.textContent = text;
    b.setAttribute("aria-label", label);
    b.setAttribute("data-action", action);
    return b;
  }

  function name(rows, r, c) {
    var subject = rows[0][c] ? "“" + rows[0][c] + "”" : String(c);
    var attribute = rows[r][0] ? "“" + rows[r][0] + "”" : String(r);
    if (r === 0) return "Subject of column " + c;
    if (c === 0) return "Attribute of row " + r;
    return "Row " + r + " " + attribute + ", column " + c + " " + subject;
  }

  function enhance(textarea) {
    if (textarea.getAttribute("data-grid") || !FIELD.test(textarea.name)) return;
    textarea.setAttribute("data-grid", "on");
    var rows = parse(textarea.value);
    var box = document.createElement("div");
    box.className = "table-grid";
    var scroller = document.createElement("div");
    scroller.className = "table-grid-scroll";
    var table = document.createElement("table");
    scroller.appendChild(table);
    var tools = document.createElement("p");
    tools.className = "table-grid-tools";
    var addRow = button("Add a row", "", "add-row");
    var addColumn = button("Add a column", "", "add-column");
    var asText = button("Edit as text", "", "as-text");
    [addRow, addColumn, asText].forEach(function (b) {
      b.className = "button";
      b.removeAttribute("aria-label"); // named by their text
      tools.appendChild(b);
      tools.appendChild(document.createTextNode(" "));
    });
    var error = document.createElement("p");
    error.className = "errornote table-grid-error";
    error.setAttribute("role", "alert");
    error.hidden = true;
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "Table cells: a row per attribute, a column per subject");
    box.appendChild(scroller);
    box.appendChild(error);
    box.appendChild(tools);
    textarea.parentNode.insertBefore(box, textarea);
    var help = textarea.parentNode.parentNode.querySelector(".help");
    textarea.hidden = true;
    if (help) help.hidden = true;

    function write() {
      textarea.value = serialise(rows);
    }

    function render(focus) {
      while (table.firstChild) table.removeChild(table.firstChild);
      rows.forEach(function (row, r) {
        var tr = document.createElement("tr");
        row.forEach(function (cell, c) {
          var td = document.createElement(r === 0 || c === 0 ? "th" : "td");
          if (r === 0 && c === 0) {
            td.className = "corner";
            td.textContent = "Attributes ↓ · subjects →";
            tr.appendChild(td);
            return;
          }
          var input = document.createElement("input");
          input.type = "text";
          input.value = cell;
          input.setAttribute("data-r", r);
          input.setAttribute("data-c", c);
          input.setAttribute("aria-label", name(rows, r, c));
          td.appendChild(input);
          if (r === 0) {
            td.appendChild(button("←", "Move column " + c + " left", "left:" + c));
            td.appendChild(button("→", "Move column " + c + " right", "right:" + c));
            td.appendChild(button("×", "Remove column " + c, "remove-column:" + c));
          } else if (c === 0) {
            td.appendChild(button("↑", "Move row " + r + " up", "up:" + r));
            td.appendChild(button("↓", "Move row " + r + " down", "down:" + r));
            td.appendChild(button("×", "Remove row " + r, "remove-row:" + r));
          }
          tr.appendChild(td);
        });
        table.appendChild(tr);
      });
      write();
      if (focus) {
        var target = table.querySelector(focus);
        if (target) target.focus();
      }
    }

    function swap(list, i, j) {
      var t = list[i];
      list[i] = list[j];
      list[j] = t;
    }

    table.addEventListener("input", function (event) {
      var input = event.target;
      if (!input.hasAttribute("data-r")) return;
      var r = parseInt(input.getAttribute("data-r"), 10);
      var c = parseInt(input.getAttribute("data-c"), 10);
      rows[r][c] = input.value;
      input.removeAttribute("aria-invalid");
      if (r === 0 || c === 0) {
        // a subject or attribute renamed: the cells' names say it (for screen readers, and for errors)
        Array.prototype.forEach.call(table.querySelectorAll("input[data-r]"), function (cell) {
          var cr = parseInt(cell.getAttribute("data-r"), 10);
          var cc = parseInt(cell.getAttribute("data-c"), 10);
          cell.setAttribute("aria-label", name(rows, cr, cc));
        });
      }
      write(); // before the form's own input listeners (admin-desk.js keeps the text)
    });

    box.addEventListener("click", function (event) {
      var action = event.target.getAttribute && event.target.getAttribute("data-action");
      if (!action) return;
      var parts = action.split(":");
      var n = parseInt(parts[1], 10);
      var width = rows[0].length;
      var focus = null;
      if (parts[0] === "add-row") {
        rows.push(rows[0].map(function () { return ""; }));
        focus = "input[data-r='" + (rows.length - 1) + "'][data-c='0']";
      } else if (parts[0] === "add-column") {
        rows.forEach(function (row) { row.push(""); });
        focus = "input[data-r='0'][data-c='" + width + "']";
      } else if (parts[0] === "remove-row" && rows.length > 2) {
        rows.splice(n, 1);
      } else if (parts[0] === "remove-column" && width > 2) {
        rows.forEach(function (row) { row.splice(n, 1); });
      } else if (parts[0] === "up" && n > 1) {
        swap(rows, n, n - 1);
        focus = "[data-action='up:" + (n - 1) + "']";
      } else if (parts[0] === "down" && n < rows.length - 1) {
        swap(rows, n, n + 1);
        focus = "[data-action='down:" + (n + 1) + "']";
      } else if (parts[0] === "left" && n > 1) {
        rows.forEach(function (row) { swap(row, n, n - 1); });
        focus = "[data-action='left:" + (n - 1) + "']";
      } else if (parts[0] === "right" && n < width - 1) {
        rows.forEach(function (row) { swap(row, n, n + 1); });
        focus = "[data-action='right:" + (n + 1) + "']";
      } else if (parts[0] === "as-text") {
        var showing = textarea.hidden;
        textarea.hidden = !showing;
        scroller.hidden = showing;
        addRow.hidden = addColumn.hidden = showing;
        if (help) help.hidden = !showing;
        asText.textContent = showing ? "Edit as a grid" : "Edit as text";
        if (!showing) {
          rows = parse(textarea.value); // back to the grid: what was typed in the text box
          render();
        }
        return;
      } else {
        return; // a move past the edge, or removing the last row or column: nothing to do
      }
      render(focus);
      writing = true;
      textarea.dispatchEvent(new Event("input", { bubbles: true })); // the form is changed (admin-desk.js)
      writing = false;
    });

    // The text box changed behind the grid (restored by admin-desk.js): show what it now says.  Typing in
    // the text view is read when switching back; the grid's own notices (`writing`) are not news to it.
    var writing = false;
    textarea.addEventListener("input", function () {
      if (writing || !textarea.hidden) return;
      rows = parse(textarea.value);
      render();
    });

    // Checked before the form is sent: every subject and attribute named, and said where.
    textarea.gridProblem = function () {
      if (!textarea.hidden) rows = parse(textarea.value);
      var inline = textarea.closest(".inline-related");
      var deleted = inline && inline.querySelector("input[name$='-DELETE']");
      if (deleted && deleted.checked) return null;
      var caption = inline && inline.querySelector("input[name$='-caption']");
      var table_name = caption && caption.value ? "Table “" + caption.value + "”" : "The table";
      for (var c = 1; c < rows[0].length; c++) {
        if (!rows[0][c].trim()) return { r: 0, c: c, text: table_name + ", column " + c + ": give the subject (its header cell) a name, or remove the column." };
      }
      for (var r = 1; r < rows.length; r++) {
        if (!rows[r][0].trim()) return { r: r, c: 0, text: table_name + ", row " + r + ": give the attribute (its first cell) a name, or remove the row." };
      }
      return null;
    };
    textarea.gridShow = function (problem) {
      error.textContent = problem.text;
      error.hidden = false;
      var input = table.querySelector("input[data-r='" + problem.r + "'][data-c='" + problem.c + "']");
      if (input && textarea.hidden) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      } else {
        textarea.focus();
      }
    };
    render();
  }

  function enhanceAll(root) {
    Array.prototype.forEach.call((root || document).querySelectorAll("textarea"), enhance);
  }

  enhanceAll(document);
  document.addEventListener("formset:added", function (event) {
    enhanceAll(event.target);
  });
  // Capture, so a refused form is stopped before anything else sees it as sent (admin-desk.js).
  document.addEventListener(
    "submit",
    function (event) {
      var boxes = event.target.querySelectorAll("textarea[data-grid]");
      for (var i = 0; i < boxes.length; i++) {
        if (boxes[i].closest(".empty-form")) continue; // the template row Django copies for "Add another"
        var problem = boxes[i].gridProblem();
        if (problem) {
          event.preventDefault();
          boxes[i].gridShow(problem);
          return;
        }
      }
    },
    true
  );
})();
