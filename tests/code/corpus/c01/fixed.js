// Fixed shape of https://github.com/martinj/node-mysql-promise/pull/2: released before
// either outcome is handled.
const express = require('express');
const mysql = require('mysql');

const pool = mysql.createPool({ connectionLimit: 10 });
const router = express.Router();

router.get('/orders/:id', (req, res, next) => {
  pool.getConnection((err, connection) => {
    if (err) return next(err);
    connection.query('SELECT * FROM orders WHERE id = ?', [req.params.id], (qerr, rows) => {
      connection.release();
      if (qerr) return next(qerr);
      res.json(rows[0]);
    });
  });
});

module.exports = router;
